from tankeco.cli import main

raise SystemExit(main())
