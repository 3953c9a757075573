# A small generator of stories in the style of bAbI tasks 1 and 2 (people moving between rooms, carrying objects),
# for tests and examples: the repository does not contain the bAbI files themselves.
"""usage: story_gen.py [--task 1|2] [--count N] [--seed S] [--sentences K] [--format plain|babi|json] [--out DIR]

plain: for each story, OUT/story-NNN.txt (one sentence per line) and OUT/story-NNN.q (question, tab, answer,
tab, supporting sentence numbers from 1); babi: the bAbI file format on stdout; json: one object per line on stdout
({"story", "question", "answer", "support"}). Only words of the bAbI vocabulary are used, so the shipped models know
them all. The same seed gives the same stories.
"""
import argparse
import json
import os
import random

PEOPLE = ["Mary", "John", "Sandra", "Daniel"]
PLACES = ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"]
MOVES = ["went to", "moved to", "journeyed to", "travelled to", "went back to"]
OBJECTS = ["football", "apple", "milk"]
GETS = ["got", "picked up", "took", "grabbed"]
DROPS = ["dropped", "discarded", "put down", "left"]


def story_task1(rng, n):
    """n moves; the question asks where someone is (the answer: their last move)."""
    where, lines, last = {}, [], {}
    for i in range(n):
        p, place = rng.choice(PEOPLE), rng.choice(PLACES)
        lines.append(f"{p} {rng.choice(MOVES)} the {place}.")
        where[p], last[p] = place, i
    p = rng.choice(sorted(where))
    return lines, f"Where is {p}?", where[p], [last[p] + 1]


def story_task2(rng, n):
    """Moves, picking up and dropping; the question asks where an object is (its holder's place, or where it was
    dropped): two supporting facts when it is carried."""
    where, holder, lines, fact = {}, {}, [], {}
    obj_at = {}
    while len(lines) < n or not obj_at:
        p = rng.choice(PEOPLE)
        held = [o for o, h in holder.items() if h == p]
        r = rng.random()
        if p in where and r < 0.25:
            free = [o for o in OBJECTS if o not in holder]
            if free:
                o = rng.choice(free)
                holder[o] = p
                lines.append(f"{p} {rng.choice(GETS)} the {o} there.")
                fact[o] = [len(lines), fact.get(p, [None])[0]]
                obj_at[o] = where[p]
                continue
        if held and r < 0.35:
            o = rng.choice(held)
            del holder[o]
            lines.append(f"{p} {rng.choice(DROPS)} the {o}.")
            fact[o] = [len(lines), fact[p][0]]
            obj_at[o] = where[p]
            continue
        place = rng.choice(PLACES)
        lines.append(f"{p} {rng.choice(MOVES)} the {place}.")
        where[p], fact[p] = place, [len(lines)]
        for o in held:
            obj_at[o], fact[o] = place, [fact[o][0], len(lines)]
    o = rng.choice(sorted(obj_at))
    return lines, f"Where is the {o}?", obj_at[o], sorted(x for x in fact[o] if x)


def generate(task, count, seed, sentences):
    rng = random.Random(seed)
    make = story_task1 if task == 1 else story_task2
    return [make(rng, rng.randint(max(2, sentences // 2), sentences)) for _ in range(count)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", type=int, choices=[1, 2], default=1)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sentences", type=int, default=8, help="longest story")
    ap.add_argument("--format", choices=["plain", "babi", "json"], default="json")
    ap.add_argument("--out", help="folder for --format plain")
    args = ap.parse_args()
    stories = generate(args.task, args.count, args.seed, args.sentences)
    if args.format == "plain":
        os.makedirs(args.out, exist_ok=True)
        for k, (lines, q, a, support) in enumerate(stories):
            with open(os.path.join(args.out, f"story-{k:03d}.txt"), "w") as f:
                f.write("\n".join(lines) + "\n")
            with open(os.path.join(args.out, f"story-{k:03d}.q"), "w") as f:
                f.write(f"{q}\t{a}\t{' '.join(map(str, support))}\n")
    for lines, q, a, support in stories if args.format != "plain" else []:
        if args.format == "json":
            print(json.dumps({"story": "\n".join(lines), "question": q, "answer": a, "support": support}))
        else:
            for i, s in enumerate(lines, 1):
                print(f"{i} {s}")
            print(f"{len(lines) + 1} {q}\t{a}\t{' '.join(map(str, support))}")


if __name__ == "__main__":
    main()
