from pipeline_lab.cli import main

raise SystemExit(main())
