"""Chunking: Python by ``ast``, other languages by braces or indentation; calls by name."""

from __future__ import annotations

from vigil_ai_hunter.bm25 import BM25, tokenize
from vigil_ai_hunter.chunks import MAX_SHOWN_LINES, calls_in, chunks_in

PY = """\
import os


@app.route("/run")
def run(request):
    cmd = request.args["cmd"]
    return execute(cmd)


class Runner:
    def go(self, cmd):
        os.system(cmd)
        self.log(cmd)
"""

JS = """\
const express = require("express");

export async function handler(req, res) {
  const s = "}{ not a brace";
  if (req.query.x) {
    res.send(render(req.query.x));
  }
}

const save = async (req) => {
  return db.insert(req.body);
};
"""

GO = """\
package main

func (s *Server) Login(w http.ResponseWriter, r *http.Request) {
	user := lookup(r.FormValue("u"))
	if user == nil {
		return
	}
}
"""

JAVA = """\
public class UserController {
    public User find(String id) throws SQLException {
        return jdbc.query("SELECT * FROM u WHERE id = " + id);
    }
}
"""

RUBY = """\
class Users
  def show
    find_user(params[:id])
  end
end
"""


def spans(path: str, text: str) -> list[tuple[str, int, int]]:
    return [(c.name, c.start_line, c.end_line) for c in chunks_in(path, text)]


def test_python_chunks_come_from_the_ast_with_decorators_and_calls() -> None:
    assert spans("a.py", PY) == [("run", 4, 7), ("Runner", 10, 13), ("go", 11, 13)]
    run, _, go = chunks_in("a.py", PY)
    assert run.code.startswith('@app.route("/run")')
    assert run.calls == ("execute",)
    assert go.calls == ("system", "log")


def test_javascript_blocks_end_at_the_balancing_brace_ignoring_strings() -> None:
    assert spans("a.js", JS) == [("handler", 3, 8), ("save", 10, 12)]
    handler = chunks_in("a.js", JS)[0]
    assert handler.calls == ("send", "render")


def test_go_java_and_ruby_definitions() -> None:
    assert spans("a.go", GO) == [("Login", 3, 8)]
    assert chunks_in("a.go", GO)[0].calls == ("lookup", "FormValue")
    assert spans("A.java", JAVA) == [("UserController", 1, 5), ("find", 2, 4)]
    assert spans("a.rb", RUBY) == [("Users", 1, 5), ("show", 2, 4)]


def test_broken_python_falls_back_to_the_heuristic() -> None:
    legacy = "def old(x):\n    print 'x'\n\ndef other():\n    pass\n"
    assert spans("a.py", legacy) == [("old", 1, 3), ("other", 4, 5)]


def test_a_long_definition_is_shown_cut() -> None:
    text = "def long():\n" + "    x = 1\n" * 100
    [chunk] = chunks_in("a.py", text)
    assert chunk.end_line == 101
    assert len(chunk.shown.splitlines()) == MAX_SHOWN_LINES


def test_calls_skip_keywords_and_strings() -> None:
    assert calls_in('if (a) { foo(1); "bar(2)"; while (x) baz(); }') == ("foo", "baz")


def test_tokens_split_identifiers_and_bm25_ranks_the_matching_document_first() -> None:
    assert tokenize("getUserById(user_id)") == [
        "getuserbyid",
        "get",
        "user",
        "by",
        "id",
        "user",
        "id",
    ]
    index = BM25([tokenize("def render_page(tpl)"), tokenize("def load_user(user_id)"), []])
    scores = index.scores(tokenize("user lookup"))
    assert scores[1] > scores[0] == scores[2] == 0.0
