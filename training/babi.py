# bAbI question answering (Weston et al. 2015) for the reading models: files, stories, tokens, vocabulary.
"""The data lives in ../shared/data/babi (never in this repository). Each line is `<id> <sentence>`; question lines
are `<id> <question>\t<answer>\t<supporting fact ids>`; the id goes back to 1 when a new story starts.

An example is one question with every story sentence before it (question lines are not memories, as in
Sukhbaatar et al. 2015); `support` holds the indices of its supporting facts among those sentences.

Tokenisation (engine/attn_read.c does exactly the same, byte for byte):
- ASCII letters are lowercased; other bytes are kept as they are;
- '.', '?' and '!' end words and are dropped (bAbI uses them only to end sentences and questions);
- a run of ASCII letters and digits, or of bytes >= 0x80 (a UTF-8 word such as "café"), with apostrophes, hyphens
  and underscores inside it, is one word;
- any other ASCII character that is not white space is a word of its own (",", ";", ...).
Answers are never tokenised: a list answer such as "apple,football" or "n,e" is one vocabulary entry.
"""
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "data", "babi")
NIL = "<nil>"  # id 0: padding, its embeddings stay zero
SEPARATOR = "."  # closes every story sentence in the attentive reader's word sequence

TASK_NAMES = {
    1: "single-supporting-fact", 2: "two-supporting-facts", 3: "three-supporting-facts", 4: "two-arg-relations",
    5: "three-arg-relations", 6: "yes-no-questions", 7: "counting", 8: "lists-sets", 9: "simple-negation",
    10: "indefinite-knowledge", 11: "basic-coreference", 12: "conjunction", 13: "compound-coreference",
    14: "time-reasoning", 15: "basic-deduction", 16: "basic-induction", 17: "positional-reasoning",
    18: "size-reasoning", 19: "path-finding", 20: "agents-motivations",
}


_LOWER = {c: c + 32 for c in range(0x41, 0x5B)}
_W = "a-z0-9\u0080-\U0010ffff"
_TOKEN = re.compile(f"[{_W}]+(?:['\\-_][{_W}]+)*|[^ \t\n\v\f\r.?!{_W}]")


def tokenize(text):
    """Words of a sentence or question, as the C reader splits them (see the module comment)."""
    return _TOKEN.findall(text.translate(_LOWER))


def story_lines(text):
    """The sentences of a story typed one per line, as the C reader takes them: lines split at '\n', white space
    trimmed at both ends, blank lines skipped."""
    return [line.strip(" \t\n\v\f\r") for line in text.split("\n") if line.strip(" \t\n\v\f\r")]


class Example:
    __slots__ = ("task", "story", "question", "answer", "support")

    def __init__(self, task, story, question, answer, support):
        self.task, self.story, self.question, self.answer, self.support = task, story, question, answer, support


def task_file(task, split, data=DATA, ten_k=True):
    """Path of a task's train or test file; en-10k has no task-3 train file (data README), so en/ is used there."""
    folder = "en-10k" if ten_k and not (task == 3 and split == "train") else "en"
    return os.path.join(data, folder, f"qa{task}_{TASK_NAMES[task]}_{split}.txt")


def parse(lines, task):
    """Examples from the lines of one bAbI file. story: token lists; support: indices into story."""
    examples, story, line_to_index = [], [], {}
    for raw in lines:
        raw = raw.rstrip("\n")
        if not raw.strip():
            continue
        head, _, rest = raw.partition(" ")
        line_id = int(head)
        if line_id == 1:
            story, line_to_index = [], {}
        if "\t" in rest:
            q, answer, support = rest.split("\t")
            ids = [line_to_index[int(s)] for s in support.split()]
            examples.append(Example(task, list(story), tokenize(q), answer.strip(), ids))
        else:
            line_to_index[line_id] = len(story)
            story.append(tokenize(rest))
    return examples


def load_task(task, split, data=DATA, ten_k=True, limit=0):
    with open(task_file(task, split, data, ten_k), encoding="utf-8") as f:
        ex = parse(f, task)
    return ex[:limit] if limit else ex


def load_all(split, data=DATA, ten_k=True, limit=0, tasks=range(1, 21)):
    """Every task's examples in task order (limit: the first N per task, for smoke tests)."""
    out = []
    for t in tasks:
        out.extend(load_task(t, split, data, ten_k, limit))
    return out


def split_validation(examples, fraction=0.1, seed=1234):
    """(train, validation): a fixed random 10% of each task's training questions held out, as in the paper."""
    rng = random.Random(seed)
    train, val = [], []
    by_task = {}
    for e in examples:
        by_task.setdefault(e.task, []).append(e)
    for task in sorted(by_task):
        items = by_task[task]
        idx = list(range(len(items)))
        rng.shuffle(idx)
        cut = int(round(len(items) * fraction))
        held = set(idx[:cut])
        for i, e in enumerate(items):
            (val if i in held else train).append(e)
    return train, val


def build_vocab(examples, extra=()):
    """<nil> first, then every story/question word and every answer, sorted (ids are stable for the same data)."""
    words = set(extra)
    for e in examples:
        for s in e.story:
            words.update(s)
        words.update(e.question)
        words.add(e.answer)
    words.discard(NIL)
    return [NIL] + sorted(words)


def write_vocab(vocab, path):
    for w in vocab:
        if not w or "\n" in w or "\r" in w:
            raise ValueError(f"vocabulary entry {w!r} cannot be written one per line")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("".join(w + "\n" for w in vocab))
    os.replace(path + ".tmp", path)


def read_vocab(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def encode(words, index):
    """Ids of the known words (unknown ones are left out, as the C reader does)."""
    return [index[w] for w in words if w in index]


if __name__ == "__main__":
    for t in range(1, 21):
        tr, te = load_task(t, "train"), load_task(t, "test")
        longest = max(len(e.story) for e in tr + te)
        words = max(len(s) for e in tr + te for s in e.story + [e.question])
        print(f"task {t:2d} {TASK_NAMES[t]:24s} train {len(tr):5d} test {len(te):4d} "
              f"longest story {longest:3d} sentences, longest sentence {words} words")
    print("vocabulary:", len(build_vocab(load_all("train") + load_all("test"))))
