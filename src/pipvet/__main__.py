from pipvet.cli.main import main

raise SystemExit(main())
