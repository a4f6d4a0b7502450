"""Translation of base-R data loading and preparation into pandas and numpy.

Covers reading data (``read.csv``, ``read.table``, ``read.delim``), factors (``factor``,
``as.factor``, ``ordered``, ``as.ordered``, ``relevel``, ``levels``, ``nlevels``,
``droplevels``), ``scale``, ``subset``, ``transform``, ``with``, ``na.omit``, vectors and
lists (``c``, ``list``, ``data.frame``, ``rep``, ``seq``) and the elementwise maths that
analysis scripts use around model calls.  Where R and pandas differ (1-based indexing,
character level order, ``check.names``), the translation says so or refuses.
"""

from __future__ import annotations

from collections.abc import Callable

from interlace.formula import ast
from interlace.translate import pycode
from interlace.translate.core import TranslatorCore, UnsupportedError, strip_parens
from interlace.translate.models import logical, match, text_value
from interlace.translate.pycode import Py

#: Elementwise numpy functions with the same meaning (R name → numpy name).
_NUMPY_FUNCTIONS: dict[str, str] = {
    "log": "log",
    "exp": "exp",
    "sqrt": "sqrt",
    "abs": "abs",
    "log2": "log2",
    "log10": "log10",
    "log1p": "log1p",
    "expm1": "expm1",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "floor": "floor",
    "ceiling": "ceil",
}
#: Summaries: R name → (numpy name, numpy name skipping NaN).
_SUMMARIES = {
    "mean": ("mean", "nanmean"),
    "sum": ("sum", "nansum"),
    "median": ("median", "nanmedian"),
    "min": ("min", "nanmin"),
    "max": ("max", "nanmax"),
}

_LEVEL_ORDER_NOTE = (
    "factor() without levels: R sorts character levels by the locale's collation "
    "('a' < 'B'), pandas by code point ('B' < 'a'); give the levels explicitly where "
    "the order matters (numeric values sort the same in both)"
)


class BaseCalls(TranslatorCore):
    """Base-R functions used to load and prepare data."""

    def base_handlers(self) -> dict[str, Callable[[ast.Call], Py]]:
        """R function name → translation method."""
        return {
            "c": self._c,
            "list": self._list,
            "data.frame": self._data_frame,
            "read.csv": self._read,
            "read.csv2": self._read,
            "read.table": self._read,
            "read.delim": self._read,
            "factor": self._factor,
            "as.factor": self._factor,
            "ordered": self._factor,
            "as.ordered": self._factor,
            "relevel": self._relevel,
            "levels": self._levels,
            "nlevels": self._levels,
            "droplevels": self._droplevels,
            "scale": self._scale,
            "subset": self._subset,
            "transform": self._transform,
            "with": self._with,
            "na.omit": self._na_omit,
            "head": self._head,
            "tail": self._head,
            "nrow": self._size,
            "ncol": self._size,
            "length": self._size,
            "ifelse": self._ifelse,
            "is.na": self._is_na,
            "rep": self._rep,
            "seq": self._seq,
            "round": self._round,
            "sd": self._spread,
            "var": self._spread,
            "as.character": self._as_character,
            **dict.fromkeys(_NUMPY_FUNCTIONS, self._elementwise),
            **{name: self._summary for name in _SUMMARIES},
        }

    # ------------------------------------------------------------------ vectors and lists
    def _positional(self, node: ast.Call) -> list[Py]:
        for arg in node.args:
            if arg.name is not None:
                raise UnsupportedError(f"{node.func}(): named elements are not translated", arg)
        return [self.expr(a.value) for a in node.args]

    def _c(self, node: ast.Call) -> Py:
        return pycode.sequence(self._positional(node))

    def _list(self, node: ast.Call) -> Py:
        if all(a.name is None for a in node.args):
            return pycode.sequence([self.expr(a.value) for a in node.args])
        if any(a.name is None for a in node.args):
            raise UnsupportedError(
                "a list with both named and unnamed elements is not translated", node
            )
        return pycode.mapping({a.name or "": self.expr(a.value) for a in node.args})

    def _data_frame(self, node: ast.Call) -> Py:
        columns = {}
        for arg in node.args:
            if arg.name == "stringsAsFactors":
                continue
            if arg.name is None:
                raise UnsupportedError("data.frame(): name every column", arg)
            columns[arg.name] = self.expr(arg.value)
        return pycode.call(self.pd("DataFrame"), (pycode.mapping(columns),))

    def _rep(self, node: ast.Call) -> Py:
        matched = match(node, ("x", "times", "each", "length.out"), "rep").matched
        if "length.out" in matched or "x" not in matched:
            raise UnsupportedError("rep(): only times = and each = are translated", node)
        x = self.expr(matched["x"].value)
        if "each" in matched:
            x = pycode.call(self.np("repeat"), (x, self.expr(matched["each"].value)))
        if "times" in matched:
            x = pycode.call(self.np("tile"), (x, self.expr(matched["times"].value)))
        return x

    def _seq(self, node: ast.Call) -> Py:
        matched = match(node, ("from", "to", "by", "length.out", "along.with", "..."), "seq")
        start, stop = matched.matched.get("from"), matched.matched.get("to")
        if set(matched.matched) - {"from", "to"} or start is None or stop is None:
            raise UnsupportedError("seq(): only seq(from, to) is translated", node)
        end = pycode.plus_one(self.expr(stop.value))
        return pycode.call(self.np("arange"), (self.expr(start.value), end))

    # ------------------------------------------------------------------ reading data
    def _read(self, node: ast.Call) -> Py:
        formals = (
            "file",
            "header",
            "sep",
            "quote",
            "dec",
            "numerals",
            "row.names",
            "col.names",
            "as.is",
            "na.strings",
            "colClasses",
            "nrows",
            "skip",
            "check.names",
            "fill",
            "strip.white",
            "blank.lines.skip",
            "comment.char",
            "allowEscapes",
            "flush",
            "stringsAsFactors",
            "fileEncoding",
            "encoding",
            "text",
            "skipNul",
        )
        matched = match(node, formals, node.func).matched
        header = node.func != "read.table"
        sep = {"read.csv": ",", "read.csv2": ";", "read.delim": "\t"}.get(node.func, "")
        kwargs: dict[str, Py] = {}
        simple = {
            "na.strings": "na_values",
            "nrows": "nrows",
            "skip": "skiprows",
            "dec": "decimal",
            "fileEncoding": "encoding",
            "encoding": "encoding",
            "col.names": "names",
        }
        for name, arg in matched.items():
            if name == "file":
                continue
            if name == "header":
                flag = logical(arg.value)
                if flag is None:
                    raise UnsupportedError("header = must be TRUE or FALSE", arg)
                header = flag
            elif name == "sep":
                text = text_value(arg.value)
                if text is None:
                    raise UnsupportedError("sep = must be a string", arg)
                sep = text
            elif name in simple:
                kwargs[simple[name]] = self.expr(arg.value)
            elif name == "stringsAsFactors":
                self.note(
                    "stringsAsFactors: character columns stay strings in pandas; "
                    "interlace turns them into factors with R's level order",
                    arg,
                )
            elif name == "comment.char":
                text = text_value(arg.value)
                if text:
                    kwargs["comment"] = pycode.string(text)
            else:
                raise UnsupportedError(f"{node.func}(): {name} = is not translated", arg)
        if "file" not in matched:
            raise UnsupportedError(f"{node.func}() needs a file", node)
        args = [self.expr(matched["file"].value)]
        if sep == "":
            kwargs = {"sep": Py('r"\\s+"'), **kwargs}
        elif sep != ",":
            kwargs = {"sep": pycode.string(sep), **kwargs}
        if node.func == "read.csv2" and "decimal" not in kwargs:
            kwargs["decimal"] = pycode.string(",")
        self.note(
            f"{node.func}(): R makes column names syntactic (check.names = TRUE: "
            "'my var' becomes 'my.var'); pandas keeps them as they are in the file",
            node,
        )
        if not header:
            kwargs["header"] = Py("None")
            read = pycode.call(self.pd("read_csv"), args, kwargs)
            if "names" in kwargs:
                return read
            # R names the columns V1, V2, ...
            return read.method("rename", columns=Py('lambda i: f"V{i + 1}"'))
        return pycode.call(self.pd("read_csv"), args, kwargs)

    # ------------------------------------------------------------------ factors
    def _factor(self, node: ast.Call) -> Py:
        matched = match(
            node, ("x", "levels", "labels", "exclude", "ordered", "nmax"), node.func
        ).matched
        if "x" not in matched:
            raise UnsupportedError(f"{node.func}() needs a vector", node)
        for name in ("exclude", "nmax"):
            if name in matched:
                raise UnsupportedError(f"{node.func}(): {name} = is not translated", matched[name])
        x = self.expr(matched["x"].value)
        ordered = node.func in ("ordered", "as.ordered")
        if "ordered" in matched:
            flag = logical(matched["ordered"].value)
            if flag is None:
                raise UnsupportedError("ordered = must be TRUE or FALSE", matched["ordered"])
            ordered = flag
        if "levels" not in matched:
            if "labels" in matched:
                raise UnsupportedError(
                    "factor(labels =) without levels = is not translated", matched["labels"]
                )
            self.note(_LEVEL_ORDER_NOTE, node)
            kwargs: dict[str, Py] = {}
        else:
            kwargs = {"categories": self.expr(matched["levels"].value)}
        if ordered:
            kwargs["ordered"] = Py("True")
        out = pycode.call(self.pd("Categorical"), (x,), kwargs)
        if "labels" in matched:
            out = out.method("rename_categories", self.expr(matched["labels"].value))
        return out

    def _relevel(self, node: ast.Call) -> Py:
        matched = match(node, ("x", "ref", "..."), "relevel").matched
        if "x" not in matched or "ref" not in matched:
            raise UnsupportedError("relevel() needs a factor and ref =", node)
        ref = strip_parens(matched["ref"].value)
        if not isinstance(ref, ast.String):
            raise UnsupportedError(
                "relevel(ref =) is translated for a level name (a string)", matched["ref"]
            )
        x = self.expr(matched["x"].value)
        level = pycode.string(ref.value)
        categories = x.attr("cat").attr("categories").method("drop", level)
        return x.attr("cat").method("reorder_categories", Py(f"[{level.text}, *{categories.text}]"))

    def _levels(self, node: ast.Call) -> Py:
        if len(node.args) != 1:
            raise UnsupportedError(f"{node.func}() takes one factor", node)
        categories = self.expr(node.args[0].value).attr("cat").attr("categories")
        if node.func == "nlevels":
            return pycode.call("len", (categories,))
        return pycode.call("list", (categories,))

    def _droplevels(self, node: ast.Call) -> Py:
        if len(node.args) != 1:
            raise UnsupportedError("droplevels() takes one argument", node)
        target = node.args[0].value
        x = self.expr(target)
        if self.is_frame(target):
            self.use("pandas")
            return x.method(
                "apply",
                Py(
                    "lambda col: col.cat.remove_unused_categories() "
                    "if isinstance(col.dtype, pd.CategoricalDtype) else col"
                ),
            )
        return x.attr("cat").method("remove_unused_categories")

    # ------------------------------------------------------------------ transforming
    def _scale(self, node: ast.Call) -> Py:
        matched = match(node, ("x", "center", "scale"), "scale").matched
        x = self.expr(matched["x"].value)
        center = logical(matched["center"].value) if "center" in matched else True
        spread = logical(matched["scale"].value) if "scale" in matched else True
        if center is None or spread is None:
            raise UnsupportedError(
                "scale(): center = and scale = are translated as TRUE/FALSE", node
            )
        out = pycode.binary("-", x, x.method("mean")) if center else x
        if spread:
            sd = (
                x.method("std")
                if center
                else pycode.call(
                    self.np("sqrt"),
                    (
                        pycode.binary(
                            "/",
                            x.method("pow", Py("2")).method("sum"),
                            pycode.binary("-", x.method("count"), Py("1")),
                        ),
                    ),
                )
            )
            out = pycode.binary("/", out, sd)
        self.note(
            "scale(): R returns a one-column matrix; here a Series "
            "(mean and SD skip missing values, as R's)",
            node,
        )
        return out

    def _subset(self, node: ast.Call) -> Py:
        matched = match(node, ("x", "subset", "select", "drop", "..."), "subset").matched
        if "x" not in matched:
            raise UnsupportedError("subset() needs a data frame", node)
        frame = self.expr(matched["x"].value)
        rows = self.expr(matched["subset"].value, frame=frame) if "subset" in matched else None
        if "drop" in matched:
            raise UnsupportedError("subset(drop =) is not translated", matched["drop"])
        if "select" not in matched:
            if rows is None:
                return frame
            return frame.item(rows)
        columns = self._column_names(matched["select"].value)
        return Py(
            f"{frame.at_least(pycode.ATOM)}.loc[{rows.text if rows else ':'}, {columns.text}]"
        )

    def _column_names(self, node: ast.Node) -> Py:
        bare = strip_parens(node)
        names = (
            [bare]
            if not (isinstance(bare, ast.Call) and bare.func == "c")
            else [strip_parens(a.value) for a in bare.args]
        )
        texts = [text_value(n) for n in names]
        if any(t is None for t in texts):
            raise UnsupportedError("select = is translated for column names only", node)
        return pycode.sequence([pycode.string(t or "") for t in texts])

    def _transform(self, node: ast.Call) -> Py:
        if not node.args or node.args[0].name not in (None, "_data"):
            raise UnsupportedError("transform() needs a data frame first", node)
        frame = self.expr(node.args[0].value)
        columns = {}
        for arg in node.args[1:]:
            if arg.name is None:
                raise UnsupportedError("transform(): name each new column", arg)
            columns[arg.name] = self.expr(arg.value, frame=frame)
        return frame.method("assign", **columns)

    def _with(self, node: ast.Call) -> Py:
        if len(node.args) != 2:
            raise UnsupportedError("with() takes a data frame and an expression", node)
        frame = self.expr(node.args[0].value)
        return self.expr(node.args[1].value, frame=frame)

    def _na_omit(self, node: ast.Call) -> Py:
        if len(node.args) != 1:
            raise UnsupportedError("na.omit() takes one argument", node)
        return self.expr(node.args[0].value).method("dropna")

    def _head(self, node: ast.Call) -> Py:
        matched = match(node, ("x", "n", "..."), node.func).matched
        x = self.expr(matched["x"].value)
        n = self.expr(matched["n"].value) if "n" in matched else Py("6")  # R's default n
        return x.method(node.func, n)

    def _size(self, node: ast.Call) -> Py:
        if len(node.args) != 1:
            raise UnsupportedError(f"{node.func}() takes one argument", node)
        x = self.expr(node.args[0].value)
        if node.func == "ncol":
            return x.attr("shape").item(Py("1"))
        return pycode.call("len", (x,))

    # ------------------------------------------------------------------ elementwise maths
    def _elementwise(self, node: ast.Call) -> Py:
        if len(node.args) != 1 or node.args[0].name is not None:
            raise UnsupportedError(f"{node.func}() is translated with one argument", node)
        return pycode.call(self.np(_NUMPY_FUNCTIONS[node.func]), (self.expr(node.args[0].value),))

    def _summary(self, node: ast.Call) -> Py:
        values = [a for a in node.args if a.name != "na.rm"]
        skip = any(a.name == "na.rm" and logical(a.value) for a in node.args)
        if len(values) != 1:
            raise UnsupportedError(
                f"{node.func}() is translated with one vector (and na.rm =)", node
            )
        plain, nan = _SUMMARIES[node.func]
        return pycode.call(self.np(nan if skip else plain), (self.expr(values[0].value),))

    def _spread(self, node: ast.Call) -> Py:
        values = [a for a in node.args if a.name != "na.rm"]
        skip = any(a.name == "na.rm" and logical(a.value) for a in node.args)
        if len(values) != 1:
            raise UnsupportedError(
                f"{node.func}() is translated with one vector (and na.rm =)", node
            )
        func = {"sd": "std", "var": "var"}[node.func]
        return pycode.call(
            self.np(("nan" if skip else "") + func),
            (self.expr(values[0].value),),
            {"ddof": Py("1")},
        )

    def _round(self, node: ast.Call) -> Py:
        matched = match(node, ("x", "digits"), "round").matched
        digits = [self.expr(matched["digits"].value)] if "digits" in matched else []
        self.note("round(): R and numpy both round halves to even", node)
        return pycode.call(self.np("round"), (self.expr(matched["x"].value), *digits))

    def _ifelse(self, node: ast.Call) -> Py:
        matched = match(node, ("test", "yes", "no"), "ifelse").matched
        if len(matched) != 3:
            raise UnsupportedError("ifelse() needs test, yes and no", node)
        return pycode.call(self.np("where"), [self.expr(a.value) for a in matched.values()])

    def _is_na(self, node: ast.Call) -> Py:
        if len(node.args) != 1:
            raise UnsupportedError("is.na() takes one argument", node)
        return pycode.call(self.pd("isna"), (self.expr(node.args[0].value),))

    def _as_character(self, node: ast.Call) -> Py:
        if len(node.args) != 1:
            raise UnsupportedError("as.character() takes one argument", node)
        return self.expr(node.args[0].value).method("astype", pycode.string("str"))
