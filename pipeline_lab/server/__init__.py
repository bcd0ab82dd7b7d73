"""The Jupyter server extension behind the JupyterLab sidebar (not built yet)."""
