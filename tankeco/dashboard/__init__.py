"""The live dashboard: a Starlette app serving one page (see :mod:`.app`)."""
