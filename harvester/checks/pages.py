"""Pages that are not listings, as an upstream serves them in place of one: what a source must
never read as papers, nor as "0 papers, ok"."""

from __future__ import annotations

from pathlib import Path

ERROR_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>500 Internal Server Error</title></head>
<body>
<h1>Internal Server Error</h1>
<p>The server encountered an internal error and was unable to complete your request.</p>
<p>Either the server is overloaded or there is an error in the application.</p>
</body></html>
"""

LOGIN_WALL = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to continue</title></head>
<body>
<main>
<h1>Sign in</h1>
<p>You need to sign in to see this page.</p>
<form action="/login" method="post">
<label>Email <input type="email" name="email"></label>
<label>Password <input type="password" name="password"></label>
<button type="submit">Log in</button>
</form>
<p>New here? Create an account. Forgot your password?</p>
</main>
</body></html>
"""

# name -> content: an empty answer, a server's error page, a login wall
GENERATED = {"empty-page": "", "error-page": ERROR_PAGE, "login-wall": LOGIN_WALL}


def write_pages(directory: Path, suffix: str) -> list[str]:
    """The generated pages as files with `suffix` (the fixtures' own, so that a source that
    goes by the extension takes them for its input); their names, relative to `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for name, text in GENERATED.items():
        path = directory / f"{name}{suffix}"
        path.write_text(text, encoding="utf-8")
        names.append(path.name)
    return names
