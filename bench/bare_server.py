"""The baseline of the cold-start bench: a bare MCPServer with one tool, over stdio."""

from __future__ import annotations

from mcp.server import MCPServer

server = MCPServer(name="bare")


@server.tool()
def echo(text: str) -> str:
    """Return the text."""
    return text


if __name__ == "__main__":
    server.run("stdio")
