"""Docstring text written once and shared by several functions."""

import re

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class Substitution:
    """Decorator filling ``%(name)s`` placeholders in a docstring.

    Each placeholder takes the text given for ``name``; the second and later
    lines of that text are indented like the placeholder's line, so a shared
    parameter description is written once, without indentation. Text that is
    not a placeholder (``%``, braces) is left as it is.

    Parameters
    ----------
    **params : str
        The text of each placeholder.

    Examples
    --------
    >>> import inspect
    >>> from sklearn_dwb.utils._docstring import Substitution
    >>> @Substitution(x="x : int\\n    The input.")
    ... def f(x):
    ...     '''Parameters
    ...     ----------
    ...     %(x)s
    ...     '''
    >>> print(inspect.getdoc(f))
    Parameters
    ----------
    x : int
        The input.
    """

    def __init__(self, **params):
        self.params = params

    def __call__(self, obj):
        if obj.__doc__:
            obj.__doc__ = "".join(
                self._fill(line) for line in obj.__doc__.splitlines(keepends=True)
            )
        return obj

    def _fill(self, line):
        indent = line[: len(line) - len(line.lstrip())]

        def text(match):
            return self.params[match.group(1)].replace("\n", "\n" + indent)

        return _PLACEHOLDER.sub(text, line)
