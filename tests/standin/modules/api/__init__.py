"""webui's modules.api: the script-argument helpers of its Api class."""
