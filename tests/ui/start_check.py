"""Child process of tests/ui/test_start_rules.py (Kivy's window is one per process): the till
started as `kassa till --sim` starts, up to its first frame; which kv files were loaded then,
and after the first dialog is built. Prints JSON."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.ui.scenario import launch


def main() -> int:
    app, _sims = launch("800x480", tempfile.mkdtemp(prefix="kassa-start-check-"), {})
    from kivy.core.window import Window
    from kivy.lang import Builder

    out: dict[str, Any] = {}

    def loaded() -> list[str]:
        return sorted(Path(name).name for name in Builder.files)

    def flipped(*_args: Any) -> None:
        Window.unbind(on_flip=flipped)
        out["at_first_frame"] = loaded()
        from ui.metrics import S

        login = app.screen("login")
        out["message_line"] = [login.ids.message.height, S(64)]  # its rule, from widgets.kv
        from ui.dialogs import ConfirmDialog

        dialog = ConfirmDialog("?", "Yes", lambda: None)
        out["after_dialog"] = loaded()
        out["dialog_children"] = len(dialog.children)
        app.stop()

    app.bind(on_start=lambda *_a: Window.bind(on_flip=flipped))
    app.run()
    print("RESULT " + json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
