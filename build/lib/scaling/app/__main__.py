import sys

from scaling.app.main import main

sys.exit(main())
