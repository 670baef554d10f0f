"""History a keeper already has, brought into the store: Apex datalogs, Home Assistant
history downloads and spreadsheets of readings or test-kit results.

Each format has a reader that streams its file (``xml.etree.ElementTree.iterparse`` with
the finished elements cleared, ``csv.reader`` line by line) and hands every value to
:class:`~tankeco.importers.sink.ImportSink`, which validates it with the bridge's own
:class:`~tankeco.bridge.validate.Validator` (the same quarantine, with the same reasons,
as a live reading) and writes it in bounded batches.  The store's unique keys make a second
import of the same file store nothing twice.

- :mod:`~tankeco.importers.sink` - validation, bounded batches, the per-sensor summary.
- :mod:`~tankeco.importers.apex_datalog` - Neptune Apex ``datalog.xml``.
- :mod:`~tankeco.importers.ha_history` - Home Assistant's history CSV.
- :mod:`~tankeco.importers.sheet` - a spreadsheet (CSV) in long or wide form.
- :mod:`~tankeco.importers.csvfile` - CSV files line by line, broken ones as one line.

A file that is not of its format (truncated XML, a date that is not a date, a unit
tankeco does not know, missing columns) stops the import with a
:class:`~tankeco.errors.UserError` that names the file, the place and the value; what was
read before it is stored first, so running again on the fixed file adds only the rest.
"""
