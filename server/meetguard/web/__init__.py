"""The verdict service: aiohttp app factory, handlers, middlewares, auth, metrics."""
