"""The lowest room: units, the quantity registry and test-kit cards.

- :mod:`~tankeco.units.molar` - molar masses and every factor derived from them (ion/N,
  alkalinity), with the vectorised conversions the chemistry uses.
- :mod:`~tankeco.units.parse` - the one parser of "<number> <unit> [basis]" text, used by
  scenario files, ``--set``, command-line options and the bridge's validation.
- :mod:`~tankeco.units.quantities` - the quantity registry: canonical unit, plausible
  range, model column, title, threshold with its source, sensor noise.
- :mod:`~tankeco.units.kits` - colour cards of hobby test kits.

It imports only :mod:`tankeco.errors` and :mod:`tankeco.reasons`.
"""
