"""The window's look: one stylesheet, large type and touch-sized buttons (usable with gloves)."""

from __future__ import annotations

from pathlib import Path

from nxhub_logger.view import BADGE_COLOURS, BADGE_LABELS, BG, BLUE, GREEN, INK, LINE, MUTED, PANEL, RED

ARROW = (Path(__file__).resolve().parent / "arrow.svg").as_posix()  # shipped beside this module (also in the bundle)

#: connection state -> (label, colour)
LINK_BADGES = {state: (BADGE_LABELS[state], colour) for state, colour in BADGE_COLOURS.items()}
BADGE_RULES = "".join(f'QLabel#badge[tone="{state}"] {{ background: {colour}; }}\n' for state, (_l, colour) in LINK_BADGES.items())

STYLESHEET = f"""
QWidget {{ color: {INK}; font-size: 15pt; }}
QMainWindow, QDialog {{ background: {BG}; }}
QFrame#header {{ background: {INK}; }}
QLabel#app {{ color: #9fb3c8; font-size: 11pt; letter-spacing: 1px; }}
QLabel#instrument {{ color: white; font-size: 22pt; font-weight: 600; }}
QLabel#badge {{ border-radius: 13px; padding: 4px 14px; font-size: 12pt; font-weight: 600; color: white; background: {MUTED}; }}
QFrame#card {{ background: {PANEL}; border: 1px solid {LINE}; border-radius: 10px; }}
QLabel#headline {{ font-size: 14pt; font-weight: 600; color: {MUTED}; text-transform: uppercase; }}
QLabel#elapsed {{ font-size: 48pt; font-weight: 300; font-family: "DejaVu Sans Mono", "Consolas", "Menlo", monospace; }}
QLabel#who {{ font-size: 16pt; }}
QLabel#files {{ font-size: 16pt; color: {BLUE}; }}
QLabel#muted {{ color: {MUTED}; font-size: 12pt; }}
QFrame#banner {{ border-radius: 8px; }}
QFrame#banner[tone="warn"] {{ background: #fff8e1; border: 1px solid #f6c86b; }}
QFrame#banner[tone="error"] {{ background: #fdecec; border: 1px solid #f5a3a3; }}
QFrame#banner[tone="info"] {{ background: #e8f0fe; border: 1px solid #a9c1f5; }}
QLabel#bannerText {{ font-size: 13pt; }}
QComboBox::drop-down {{ subcontrol-origin: padding; subcontrol-position: center right; width: 34px;
              border: none; border-left: 1px solid {LINE}; }}
QComboBox::down-arrow {{ image: url("{ARROW}"); width: 14px; height: 9px; }}
QPushButton {{ min-height: 64px; min-width: 150px; padding: 6px 22px; border-radius: 10px; font-size: 17pt; font-weight: 600;
              background: {PANEL}; border: 2px solid {LINE}; }}
QPushButton:hover {{ border-color: #9fb3c8; }}
QPushButton:disabled {{ color: #9aa5b1; background: #eef2f6; border-color: #e4e9ee; }}
QPushButton#primary {{ background: {GREEN}; color: white; border: none; }}
QPushButton#primary:disabled {{ background: #a7d7b5; }}
QPushButton#danger {{ background: {RED}; color: white; border: none; }}
QPushButton#danger:disabled {{ background: #eab3b3; }}
QPushButton#small {{ min-height: 44px; min-width: 90px; font-size: 13pt; }}
QComboBox, QLineEdit, QPlainTextEdit {{ min-height: 48px; padding: 4px 10px; border: 2px solid {LINE}; border-radius: 8px;
              background: white; font-size: 15pt; }}
QComboBox:focus, QLineEdit:focus, QPlainTextEdit:focus {{ border-color: {BLUE}; }}
""" + BADGE_RULES
