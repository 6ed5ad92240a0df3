"""A remote MCP server at ``/v1/mcp``: streamable HTTP with JSON answers, over the v1 API."""

from vigil_gateway.mcp.transport import add_routes

__all__ = ["add_routes"]
