"""Where webui keeps user data. Tests and the server point it at a temporary directory."""

import os

data_path = os.environ.get("STANDIN_DATA_DIR") or os.getcwd()
