"""``nxhub-logger-gui``: one window per machine; a second start brings the first to the front.

Single instance through a QLocalServer named after the journal: the second
process connects, asks the first to show itself, and exits.
"""

from __future__ import annotations

import argparse
import hashlib
import sys

from PySide6.QtCore import QTimer
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication, QMessageBox

from nxhub_logger import settings as config


def instance_name(settings: config.Settings) -> str:
    digest = hashlib.sha256(str(settings.journal.resolve()).encode()).hexdigest()[:16]
    return f"nxhub-logger-{digest}"


def signal_running_instance(name: str, timeout_ms: int = 1000) -> bool:
    """True when another Logger listens on ``name`` (and was asked to come to the front)."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(b"show\n")
    sock.waitForBytesWritten(timeout_ms)
    sock.disconnectFromServer()
    return True


class SingleInstance:
    """Listens for later starts and raises ``window`` when one knocks."""

    def __init__(self, name: str) -> None:
        self.server = QLocalServer()
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(name):
            QLocalServer.removeServer(name)  # a stale socket left by a crash
            self.server.listen(name)
        self.window = None
        self.server.newConnection.connect(self._knock)

    def _knock(self) -> None:
        while self.server.hasPendingConnections():
            conn = self.server.nextPendingConnection()
            conn.readyRead.connect(conn.readAll)
            conn.disconnected.connect(conn.deleteLater)
            if self.window is not None:
                self.window.setWindowState(self.window.windowState() & ~self.window.windowState().WindowMinimized)
                self.window.show()
                self.window.raise_()
                self.window.activateWindow()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nxhub-logger-gui", description="The NexusLIMS Hub Logger window.")
    parser.add_argument("--config", metavar="FILE", help="a JSON config file for fleet roll-out")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("NexusLIMS Hub Logger")
    try:
        settings = config.load(args.config)
    except config.ConfigError as exc:
        QMessageBox.critical(None, "NexusLIMS Hub Logger", str(exc))
        return 2
    name = instance_name(settings)
    if signal_running_instance(name):
        print("the Logger is already running; brought it to the front")
        return 0
    from nxhub_logger.gui.window import LoggerWindow  # after the single-instance check: a second start stays fast

    guard = SingleInstance(name)
    window = LoggerWindow(settings)
    guard.window = window
    window.show()
    if not settings.complete:
        QTimer.singleShot(0, window.ask_setup)
    return app.exec()
