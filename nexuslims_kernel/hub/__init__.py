"""The local hub: JupyterHub configuration helpers, the ``nxhub up`` supervisor and ``nxhub doctor``.

Imported by ``hub_config/jupyterhub_config.py`` (inside the hub process) and by
the CLI; nothing here is needed by the build worker or the API.
"""
