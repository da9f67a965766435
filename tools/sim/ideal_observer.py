#!/usr/bin/env python3
"""How fast could any model name a seated customer's table on `tastesync sim`'s floor?

An ideal observer, far better informed than the service can be, on the floor of issue 14
(docs/scoring.md, "How fast is possible"): it knows the customer is seated from t = 0 and at one
of the store's tables (each as likely), knows every beacon's power, the path-loss exponent, the
reading scatter and the phone's offset exactly, and no body is ever in the way. Each second it
computes the exact posterior over tables from every reading so far (the seat integrated over the
sim's seat distribution) and names the most likely table once its posterior reaches a threshold.
Being exact, its posterior is calibrated: a threshold of 0.98 gives a precision of about 0.98.

Any real model is slower: it must also tell a seated customer from a walking one, learn the
phone's offset, and survive blocking. So its first-identification times are a lower bound.

Usage: python3 tools/sim/ideal_observer.py [--sigma 5]... [--trials 400] [--seed 1]
       [--scan-period-s 1] [--detect-near-min 0.5] [--detect-near-max 0.85]
Geometry: store100 of deploy/layouts/fixture-stores.yaml (tables 2.3 m apart); pure Python,
about a minute per sigma.
"""

import argparse
import math
import random

# store100 (deploy/layouts/fixture-stores.yaml): the active beacons and their mounting heights.
TABLES = {
    "Table 1": (2.0, 3.5), "Table 2": (4.3, 3.5), "Table 3": (6.6, 3.5),
    "Table 4": (2.0, 5.8), "Table 5": (4.3, 5.8), "Table 6": (6.6, 5.8),
}
OTHERS = {"Entrance": ((5.0, 1.0), 1.2), "Counter": ((8.9, 6.6), 1.0)}
TABLE_HEIGHT_M, SEATED_PHONE_M = 0.7, 0.8
TX_DBM, EXPONENT = -59.0, 2.0
SEAT_MIN_M, SEAT_MAX_M = 0.3, 1.0  # tools/sim/settings.cpp, floor(): arm's reach
DETECT_MIN, DETECT_MAX, DETECT_HALF_M = 0.50, 0.85, 10.0  # 15-50 % of scans missed
SECONDS = 30


def beacons():
    out = [(name, (x, y), TABLE_HEIGHT_M) for name, (x, y) in TABLES.items()]
    out += [(name, xy, h) for name, (xy, h) in OTHERS.items()]
    return out


def mean_rssi(seat, beacon):
    _, (bx, by), bh = beacon
    d = math.sqrt((seat[0] - bx) ** 2 + (seat[1] - by) ** 2 + (SEATED_PHONE_M - bh) ** 2)
    return TX_DBM - 10.0 * EXPONENT * math.log10(max(d, 0.1))


def seat_grid(centre, radii=8, angles=16):
    """Seats around a table, as the sim draws them: distance uniform, direction uniform."""
    points = []
    for i in range(radii):
        r = SEAT_MIN_M + (SEAT_MAX_M - SEAT_MIN_M) * (i + 0.5) / radii
        for j in range(angles):
            a = 2.0 * math.pi * (j + 0.5) / angles
            points.append((centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)))
    return points


def run(sigma, trials, rng, thresholds, scan_period_s, detect_range):
    bs = beacons()
    hypotheses = {name: [[mean_rssi(s, b) for b in bs] for s in seat_grid(xy)]
                  for name, xy in TABLES.items()}
    firsts = {t: [] for t in thresholds}  # (seconds, right) per trial that identified
    for _ in range(trials):
        table = rng.choice(list(TABLES))
        r = rng.uniform(SEAT_MIN_M, SEAT_MAX_M)
        a = rng.uniform(0.0, 2.0 * math.pi)
        cx, cy = TABLES[table]
        seat = (cx + r * math.cos(a), cy + r * math.sin(a))
        true_means = [mean_rssi(seat, b) for b in bs]
        detect = rng.uniform(*detect_range)
        detect_by_beacon = []
        for b in bs:
            d = math.dist(seat, b[1])
            detect_by_beacon.append(detect / (1.0 + (d / DETECT_HALF_M) ** 4))
        # Log-likelihood of every seat hypothesis (offset known, so it cancels out exactly).
        loglik = {name: [0.0] * len(points) for name, points in hypotheses.items()}
        phase = rng.uniform(0.0, 1.0)
        pending = set(thresholds)
        for scan in range(int(SECONDS / scan_period_s)):
            t = (phase + scan) * scan_period_s
            for k, mu in enumerate(true_means):
                if rng.random() >= detect_by_beacon[k]:
                    continue
                reading = mu + rng.gauss(0.0, sigma)
                for name, points in hypotheses.items():
                    ll = loglik[name]
                    for i, means in enumerate(points):
                        e = reading - means[k]
                        ll[i] -= e * e / (2.0 * sigma * sigma)
            top = max(max(ll) for ll in loglik.values())
            mass = {name: sum(math.exp(v - top) for v in ll) for name, ll in loglik.items()}
            total = sum(mass.values())
            best = max(mass, key=mass.get)
            posterior = mass[best] / total
            for threshold in sorted(pending):
                if posterior >= threshold:
                    firsts[threshold].append((t, best == table))
                    pending.discard(threshold)
            if not pending:
                break
    return firsts


def quantile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sigma", type=float, action="append")
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scan-period-s", type=float, default=1.0)
    parser.add_argument("--detect-near-min", type=float, default=DETECT_MIN)
    parser.add_argument("--detect-near-max", type=float, default=DETECT_MAX)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    thresholds = (0.8, 0.98)
    print(f"ideal observer, store100, {args.trials} seated customers, {SECONDS} s each, a scan "
          f"every {args.scan_period_s} s hearing a near beacon {args.detect_near_min}-"
          f"{args.detect_near_max} of the time")
    print("sigma  threshold  identified  precision  first id from sitting down p50 / p95")
    for sigma in args.sigma or [5.0, 8.0]:
        firsts = run(sigma, args.trials, rng, thresholds, args.scan_period_s,
                     (args.detect_near_min, args.detect_near_max))
        for threshold in thresholds:
            got = firsts[threshold]
            # Trials never identified within SECONDS count as later than any.
            seconds = [s for s, _ in got] + [math.inf] * (args.trials - len(got))
            right = sum(1 for _, ok in got if ok)
            print(f"{sigma:4.1f}   {threshold:8.2f}  {len(got) / args.trials:10.3f}  "
                  f"{right / max(1, len(got)):9.3f}  {quantile(seconds, 0.5):6.2f} / "
                  f"{quantile(seconds, 0.95):6.2f} s")


if __name__ == "__main__":
    main()
