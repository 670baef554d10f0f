from tankeco.cli import entry

raise SystemExit(entry())
