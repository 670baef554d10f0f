"""The scenario room: what a keeper writes about his tank, checked into numbers.

- :mod:`~tankeco.scenario.schema` - the tables of a scenario file (pydantic models).
- :mod:`~tankeco.scenario.loading` - reading files, the embedded seed tank, validation.
- :mod:`~tankeco.scenario.overrides` - the ``--set SECTION.KEY=VALUE`` language.
- :mod:`~tankeco.scenario.messages` - one-line errors naming the key, value and what is
  allowed (also used by the layout files).
- :mod:`~tankeco.scenario.toml_writer` - TOML text that reads back equal.
- :mod:`~tankeco.scenario.params` - the one table of model parameters.
- :mod:`~tankeco.scenario.thresholds` - water-quality limits the summaries use.
"""
