"""A `$filter` expression parser: tokenizer plus a recursive-descent grammar.

Precedence, loosest first: `or` < `and` < `not` < comparison (`eq ne gt ge lt le`) < primary.
Primaries are parenthesised expressions, literals (`'O''Brien'`, `guid'...'`, `datetime'...'`,
`12.5M`, `1.5d`, `42`, `42L`, `true`, `false`, `null`), member paths (`Name`,
`ParentCustomerId/Id`) and function calls. The parser only builds the tree; what CRM 2011 cannot
do (unknown functions, arithmetic, comparing two attributes) is refused when it is translated.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from .errors import bad_request

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
ARITHMETIC = ("add", "sub", "mul", "div", "mod")
TOKEN_RE = re.compile(
    r"""(?P<space>\s+)
    |(?P<typed>(?:guid|datetime|datetimeoffset|time|binary|X)'[^']*')
    |(?P<string>'(?:[^']|'')*')
    |(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
    |(?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    |(?P<punct>[()/,])
    """,
    re.VERBOSE,
)
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?Z?$")


@dataclass(frozen=True)
class Literal:
    """A constant: `type` is string, int, decimal, double, bool, null, guid or datetime."""

    type: str
    value: object


@dataclass(frozen=True)
class Member:
    """A property path such as ("ParentCustomerId", "Id")."""

    path: tuple


@dataclass(frozen=True)
class Call:
    """A function call such as startswith(Name, 'A')."""

    name: str
    args: tuple


@dataclass(frozen=True)
class Compare:
    """A comparison `left op right` (op in eq ne gt ge lt le)."""

    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Logical:
    """`left and right` / `left or right`."""

    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Not:
    """`not operand`."""

    operand: object


def tokenize(text):
    """The (kind, text, position) tokens of a filter string; a 400 on an unknown character."""
    tokens, pos = [], 0
    while pos < len(text):
        match = TOKEN_RE.match(text, pos)
        if not match:
            raise bad_request(f"Syntax error at position {pos} in $filter: {text[pos : pos + 10]!r}.")
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group(), pos))
        pos = match.end()
    return tokens


def parse(text):
    """The expression tree of a `$filter` string; a 400 on a syntax error."""
    parser = _Parser(tokenize(text))
    try:
        node = parser.expression()
    except RecursionError:
        raise bad_request("The $filter expression is nested too deeply.")
    if parser.peek() is not None:
        parser.fail("unexpected token")
    return node


def _typed_literal(text):
    prefix, _, body = text.partition("'")
    body = body[:-1]
    if prefix == "guid":
        return Literal("guid", body)
    if prefix == "datetime":
        if not DATETIME_RE.match(body):
            raise bad_request(f"Invalid datetime literal {text!r} in $filter.")
        return Literal("datetime", datetime.fromisoformat(body.rstrip("Z")))
    raise bad_request(f"Literal {text!r} is not supported in $filter.")


def _number(text):
    suffix = text[-1].lower()
    body = text[:-1] if suffix in "mdfl" else text
    if suffix == "m":
        return Literal("decimal", body)
    if suffix in "df" or "." in body or "e" in body.lower():
        return Literal("double", body)
    return Literal("int", int(body))


WORD_LITERALS = {"true": Literal("bool", True), "false": Literal("bool", False), "null": Literal("null", None)}


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.index = 0

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def next(self):
        token = self.peek()
        if token is None:
            raise bad_request("Syntax error in $filter: unexpected end of expression.")
        self.index += 1
        return token

    def fail(self, what):
        kind, text, pos = self.peek() or ("end", "", -1)
        raise bad_request(f"Syntax error in $filter at position {pos}: {what} {text!r}.")

    def accept(self, kind, *texts):
        token = self.peek()
        if token and token[0] == kind and (not texts or token[1] in texts):
            self.index += 1
            return token[1]
        return None

    def expect(self, text):
        if not self.accept("punct", text):
            self.fail(f"expected {text!r}, found")

    def expression(self):
        node = self.conjunction()
        while self.accept("word", "or"):
            node = Logical("or", node, self.conjunction())
        return node

    def conjunction(self):
        node = self.negation()
        while self.accept("word", "and"):
            node = Logical("and", node, self.negation())
        return node

    def negation(self):
        if self.accept("word", "not"):
            return Not(self.negation())
        return self.comparison()

    def comparison(self):
        left = self.primary()
        op = self.accept("word", *COMPARISONS)
        if op:
            return Compare(op, left, self.primary())
        if self.accept("word", *ARITHMETIC):
            raise bad_request("Arithmetic operators are not supported in $filter.")
        return left

    def primary(self):
        kind, text, _ = self.next()
        if kind == "punct" and text == "(":
            node = self.expression()
            self.expect(")")
            return node
        if kind == "string":
            return Literal("string", text[1:-1].replace("''", "'"))
        if kind == "typed":
            return _typed_literal(text)
        if kind == "number":
            return _number(text)
        if kind == "word":
            return self.word(text)
        self.index -= 1
        return self.fail("unexpected")

    def word(self, text):
        if text in WORD_LITERALS:
            return WORD_LITERALS[text]
        if text in COMPARISONS + ARITHMETIC + ("and", "or", "not"):
            self.index -= 1
            self.fail("unexpected operator")
        if self.accept("punct", "("):
            return Call(text, self.arguments())
        path = [text]
        while self.accept("punct", "/"):
            path.append(self.next_word())
        return Member(tuple(path))

    def next_word(self):
        kind, text, _ = self.next()
        if kind != "word":
            self.index -= 1
            self.fail("expected a property name, found")
        return text

    def arguments(self):
        args = []
        if self.accept("punct", ")"):
            return ()
        while True:
            args.append(self.expression())
            if self.accept("punct", ")"):
                return tuple(args)
            self.expect(",")
