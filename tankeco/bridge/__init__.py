"""Everything that speaks to devices: topics, decoders, validation, the MQTT bridge.

Data flows one way: a raw MQTT message is decoded (:mod:`tankeco.bridge.decoders`),
validated and converted to canonical units (:mod:`tankeco.bridge.validate`), and then
written to :mod:`tankeco.store` — accepted rows as readings, rejected ones to quarantine
with the reason.  Nothing here imports the model.
"""
