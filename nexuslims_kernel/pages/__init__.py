"""The Voilà pages' logic: each ``voila_apps/*.ipynb`` is one cell calling ``<page>.show()``.

Pages run as the person viewing them: their kernel calls the API through the
catalog with that person's token; browsers fetch thumbnails and files from the
API directly (see :mod:`.context`).
"""
