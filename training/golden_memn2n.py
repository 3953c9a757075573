# Golden files for tests/test_memn2n.c, computed by the PyTorch twin (training/memn2n.py).
"""usage: golden_memn2n.py tiny OUT_DIR
       golden_memn2n.py shipped MODEL_DIR OUT [SHARED]

Writes a random-weight tiny model directory (F32 config.json, model.safetensors, vocab.txt) and golden.json:
- tokenize: texts and the words babi.tokenize makes of them (the C tokenizer must agree);
- ids: stories given as ids, with the twin's logits [V], answer probabilities and hop maps;
- text: stories and questions as a user types them, with what the reader must make of them (kept sentences,
  words, unknown words, answer, probability, hop maps).
The shared pieces (model directory, text cases) are also used by golden_attentive_reader.py.

`shipped` runs the twin on the shipped F16 weights of MODEL_DIR over the first 10 questions of every bAbI test file
(SHARED/data/babi, default ../shared), each typed as text (the story's sentences one per line, the question), and
writes OUT with the same "text" cases: tests/test_memn2n.c checks the C reader against them.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import babi  # noqa: E402
import safetensors_io  # noqa: E402
from memn2n import MemN2N, answer_probs  # noqa: E402

VOCAB = [babi.NIL, ".", "apple", "apple,football", "back", "bathroom", "daniel", "football", "garden", "got",
         "hallway", "is", "john", "journeyed", "kitchen", "mary", "milk", "moved", "office", "sandra", "the",
         "there", "to", "travelled", "went", "where"]
TINY = {"vocab_size": len(VOCAB), "embed_dim": 8, "hops": 3, "memory_size": 6, "max_sentence_words": 5,
        "init_std": 0.5}

TOKENIZE = ["Mary went to the Kitchen.", "  Where is the milk?  ", "Don't go-home, café!", "a--b _x_ 3.5 é",
            "x,y;z", "", "...?!", "ÉCOLE Über", "tab\there\x0bvt", "end-", "it's'", "q\u00a0nbsp"]

STORIES = [
    ("Mary went to the kitchen.\nJohn moved to the garden.\n", "Where is Mary?"),
    ("Sandra journeyed to the office.\n\n  Daniel travelled to the hallway.  \nMary got the football there.\n"
     "Mary went back to the bathroom.\n", "Where is the football?"),
    # more sentences than the memory holds, an unknown word, a sentence longer than max_sentence_words
    ("John went to the kitchen.\nMary went to the garden.\nDaniel moved to the office.\nSandra went to the hallway.\n"
     "John got the milk there.\nJohn travelled to the bathroom.\nAlice went to the garden.\n"
     "Mary went back to the kitchen to the garden there.\n", "Where is the milk?"),
    ("Mary went to the Zanzibar.", "Where is Alice?"),  # question with no known word except where/is
    ("Mary\r\nwent", "  "),  # blank question: the C reader refuses it (not in the golden's cases)
]


def write_model_dir(model, out_dir, config, vocab, made_by):
    os.makedirs(out_dir, exist_ok=True)
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    safetensors_io.save_file(state, os.path.join(out_dir, "model.safetensors"), {"made_by": made_by})
    babi.write_vocab(vocab, os.path.join(out_dir, "vocab.txt"))
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
        f.write("\n")


def write_golden(path, twin_file, command, doc):
    doc = dict({"made_by": f"PyTorch twin training/{twin_file}, command: /usr/bin/python3 training/{command}",
                "torch": torch.__version__}, **doc)
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    os.replace(path + ".tmp", path)


def rounded(t):
    return np.asarray(t, dtype=np.float32).tolist()


def read_text(story, question, index, max_sentences, max_words):
    """What the reader makes of typed text: kept sentence lines, their words, the ids fed to the model (known words,
    cut to max_words) and the unknown words."""
    lines = babi.story_lines(story)[-max_sentences:]
    words = [babi.tokenize(line) for line in lines]
    ids = [[index[w] for w in ws if w in index][:max_words] for ws in words]
    q_words = babi.tokenize(question)
    q_ids = [index[w] for w in q_words if w in index][:max_words]
    unknown = [w for ws in words + [q_words] for w in ws if w not in index]
    return {"story": story, "question": question, "sentences": lines, "words": words, "question_words": q_words,
            "unknown": unknown}, ids, q_ids


def answer_of(logits, vocab):
    p = answer_probs(logits[None])[0]
    a = int(p.argmax())
    top2 = p.topk(2).values
    return {"answer": vocab[a], "prob": float(p[a]), "near_tie": bool(top2[0] - top2[1] < 1e-4)}


def tiny_model(seed=11):
    torch.manual_seed(seed)
    m = MemN2N(TINY)
    return m.eval()


@torch.no_grad()
def run_ids(model, story, question):
    M, L = max(1, len(story)), max([1] + [len(s) for s in story])
    s = torch.zeros(1, M, L, dtype=torch.long)
    for i, x in enumerate(story):
        s[0, i, :len(x)] = torch.tensor(x, dtype=torch.long)
    q = torch.zeros(1, max(1, len(question)), dtype=torch.long)
    q[0, :len(question)] = torch.tensor(question, dtype=torch.long)
    logits, maps = model(s, torch.tensor([len(story)]), q)
    return logits[0], [mp[0, :len(story)] for mp in maps]


def id_cases(model):
    rng = np.random.default_rng(5)
    V, L = model.config["vocab_size"], model.config["max_sentence_words"]
    shapes = [[3], [2, 0, 5, 1, 4, 3], [1, 1, 2], [4, 2]]  # words per sentence (0: an empty memory)
    cases = []
    for k, shape in enumerate(shapes):
        story = [[int(x) for x in rng.integers(1, V, n)] for n in shape]
        question = [] if k == 3 else [int(x) for x in rng.integers(1, V, min(L, 1 + k))]
        logits, maps = run_ids(model, story, question)
        cases.append({"story": story, "question": question, "logits": rounded(logits),
                      "probs": rounded(answer_probs(logits[None])[0]), "hops": [rounded(m) for m in maps]})
    return cases


def text_cases(run, vocab, max_sentences, max_words, stories=STORIES):
    """run(ids, q_ids) -> (logits, maps over the kept sentences or words), for each (story, question) typed."""
    index = {w: i for i, w in enumerate(vocab)}
    cases = []
    for story, question in stories:
        if not babi.story_lines(story) or not question.strip():
            continue
        case, ids, q_ids = read_text(story, question, index, max_sentences, max_words)
        logits, maps = run(ids, q_ids)
        case.update(answer_of(logits, vocab), maps=[rounded(m) for m in maps])
        cases.append(case)
    return cases


def write_tiny(out_dir):
    model = tiny_model()
    config = dict(TINY, architectures=["MemN2N"], model_type="memn2n", position_encoding=True,
                  temporal_encoding=True, weight_tying="adjacent", nil_token_id=0,
                  attnlens={"task": "read", "display_name": "tiny random MemN2N", "vocab": "vocab.txt"})
    config.pop("init_std")
    write_model_dir(model, out_dir, config, VOCAB, "golden_memn2n.py")
    c = model.config
    doc = {"tokenize": [{"text": t, "words": babi.tokenize(t)} for t in TOKENIZE],
           "ids": id_cases(model),
           "text": text_cases(lambda ids, q: run_ids(model, ids, q), VOCAB, c["memory_size"], c["max_sentence_words"])}
    write_golden(os.path.join(out_dir, "golden.json"), "memn2n.py", "golden_memn2n.py tiny " + out_dir, doc)


def babi_typed(shared, per_task=10):
    """(story text, question) pairs: the first per_task questions of each bAbI test file, as a user would type them."""
    pairs = []
    for task in range(1, 21):
        story = []
        with open(babi.task_file(task, "test", os.path.join(shared, "data", "babi")), encoding="utf-8") as f:
            for raw in f:
                head, _, rest = raw.rstrip("\n").partition(" ")
                if not head.isdigit():
                    continue
                if int(head) == 1:
                    story = []
                if "\t" in rest:
                    pairs.append(("\n".join(story) + "\n", rest.split("\t")[0].strip()))
                    if len(pairs) == task * per_task:
                        break
                else:
                    story.append(rest)
    return pairs


def load_shipped(model_dir, model_class=MemN2N,
                 keys=("vocab_size", "embed_dim", "hops", "memory_size", "max_sentence_words")):
    """(twin in eval mode on the F16 weights of model_dir, vocabulary)."""
    config = json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8"))
    arrays, _ = safetensors_io.load_file(os.path.join(model_dir, "model.safetensors"))
    model = model_class({k: config[k] for k in keys if k in config})
    model.load_state_dict({k: torch.from_numpy(a.astype(np.float32)) for k, a in arrays.items()})
    return model.eval(), babi.read_vocab(os.path.join(model_dir, "vocab.txt"))


def default_shared():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")


def write_shipped(model_dir, out, shared):
    model, vocab = load_shipped(model_dir)
    c = model.config
    cases = text_cases(lambda ids, q: run_ids(model, ids, q), vocab, c["memory_size"], c["max_sentence_words"],
                       babi_typed(shared))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    write_golden(out, "memn2n.py", f"golden_memn2n.py shipped {model_dir} {out}",
                 {"model": os.path.basename(os.path.normpath(model_dir)), "text": cases})
    print(f"{out}: {len(cases)} typed bAbI test stories, {sum(c['near_tie'] for c in cases)} near ties")


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) == 3 and sys.argv[1] == "tiny":
        write_tiny(sys.argv[2])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "shipped":
        write_shipped(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) == 5 else default_shared())
    else:
        sys.exit(__doc__)
