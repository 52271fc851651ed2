"""How `atlas dashboard` (and the browser tests) start the Streamlit server."""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")


def streamlit_command(host: str = "127.0.0.1", port: int = 8501) -> list[str]:
    """The command line that serves the dashboard on host:port, headless, with no telemetry, no
    file watcher and no network access of its own (Streamlit's frontend ships in its wheel)."""
    streamlit = Path(sys.executable).parent / "streamlit"
    return [
        str(streamlit) if streamlit.exists() else "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
        "--theme.base", "light",
    ]
