"""The in-process runs of the ``trackerr`` command that the CLI tests share."""

from __future__ import annotations

import contextlib
import io

from trackerr.cli import main


def cli(*args):
    """Run the command in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def one_error(*args, match):
    """Run the command and check it failed cleanly: exit 2, one line on
    stderr starting 'trackerr: error:' and holding `match`, no traceback.
    Returns the line."""
    status, out, err = cli(*args)
    lines = err.strip().splitlines()
    assert status == 2, (status, out, err)
    assert len(lines) == 1 and lines[0].startswith("trackerr: error:"), err
    assert "Traceback" not in err
    assert match in lines[0], lines[0]
    return lines[0]
