"""The promotion engine: the discounts head office's promotions give on one ticket.

Pure and deterministic: the same items and promotions give the same discounts, in integer
cents, whatever the clock or the machine. Which promotions are active at the ticket's time
is contract/promotions.py's `active_at`; the till's pricing step (firmware/promotion_rule.py)
feeds this module and puts the result on the ticket.

Rules (docs/promotions.md says the same for the shop):
- Pieces: a line of quantity q is q pieces at its unit price. A line sold by weight or
  with a price in its barcode is one piece of its amount and takes only `percent`
  promotions (it is no "piece" to count for 3-for-2).
- Who takes part: product lines only (the pricing rule leaves out a line without a SKU,
  such as a deposit); lines with a cashier's or a personal offer's line discount, and lines
  whose price a manager changed, take no promotion (one discount per line, the person's
  wins). A ticket discount is given after the promotions, on what is left.
- Overlaps: a piece takes at most one promotion. Of the promotions that cover free pieces,
  the one giving the largest discount goes first (ties: the smaller id), then the next on
  the pieces still free, until none gives anything. Best for the customer in practice, and
  stable: it does not depend on the order promotions arrive in.
- Groups (n_for_price, buy_get, nth_percent): covered pieces are ordered by unit price,
  dearest first (ties: lower line number), and cut into groups of n (buy + get); leftover
  pieces stay free for other promotions. `buy_get`: the last `get` pieces of a group (its
  cheapest) are free; `nth_percent`: the group's last piece gets `percent` off
  (rounded half up per piece); `n_for_price`: the group costs `price_cents`, and a group
  that would cost more that way is not formed. `percent`: `percent` off each covered line's
  value (rounded half up per line).
- Allocation: a promotion's discount is spread over every piece of its groups (the free
  ones and the paid ones) in proportion to their price, summed per line, with the cents
  left by rounding down given one by one to the largest remainders (ties: lower line
  number). The shares add up exactly to the discount; a refund gives back a line's share
  per piece (firmware/returns.py, `refund_share`).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from contract.money import percent_of
from contract.promotions import Promotion


class Item(NamedTuple):
    """What the engine sees of one ticket line (a tuple: a hundred are made per scan)."""

    line_no: int
    sku: str
    category: str
    unit_price: int  # a piece's price (the whole amount when not by_piece)
    quantity: int  # pieces (1 when not by_piece)
    by_piece: bool  # False: sold by weight or price-embedded, one piece, percent only


@dataclass(frozen=True)
class Applied:
    """One promotion given on a ticket: its discount and each line's share (line order)."""

    promotion_id: str
    name: str
    version: int
    discount: int
    shares: tuple[tuple[int, int], ...]  # (line_no, cents), cents > 0

    def to_dict(self) -> dict:
        return {"id": self.promotion_id, "name": self.name, "version": self.version,
                "discount": self.discount,
                "lines": [{"line_no": n, "discount": c} for n, c in self.shares]}


Piece = tuple[int, int]  # (price, line_no)


class PromotionIndex:
    """Active promotions looked up by SKU and by category, built once per set of active
    promotions (the pricing rule keeps it), so a scan costs lookups, not promotions x lines."""

    def __init__(self, promotions: Iterable[Promotion]) -> None:
        self.promotions = tuple(sorted(promotions, key=lambda p: p.id))
        self.by_sku: dict[str, list[Promotion]] = {}
        self.by_category: dict[str, list[Promotion]] = {}
        self._for: dict[tuple[str, str, bool], tuple[Promotion, ...]] = {}
        for promotion in self.promotions:
            for sku in promotion.products:
                self.by_sku.setdefault(sku, []).append(promotion)
            for category in promotion.categories:
                self.by_category.setdefault(category, []).append(promotion)

    def covering(self, items: Sequence[Item]) -> dict[str, tuple[Promotion, list[Item]]]:
        """promotion id -> (promotion, the items it can take), for the promotions covering any."""
        found: dict[str, tuple[Promotion, list[Item]]] = {}
        for item in items:
            key = (item.sku, item.category, item.by_piece)
            promotions = self._for.get(key)
            if promotions is None:
                promotions = self._for[key] = self._lookup(*key)
            for promotion in promotions:
                entry = found.get(promotion.id)
                if entry is None:
                    found[promotion.id] = (promotion, [item])
                else:
                    entry[1].append(item)
        return found

    def _lookup(self, sku: str, category: str, by_piece: bool) -> tuple[Promotion, ...]:
        """The promotions that can take a line of this product (remembered per product)."""
        seen: dict[str, Promotion] = {}
        for promotion in (*self.by_sku.get(sku, ()),
                          *(self.by_category.get(category, ()) if category else ())):
            if by_piece or promotion.type == "percent":
                seen.setdefault(promotion.id, promotion)
        return tuple(seen.values())


def evaluate(items: Sequence[Item],
             promotions: Iterable[Promotion] | PromotionIndex) -> list[Applied]:
    """The promotions given on these items, in the order they were chosen.

    Lazy greedy: a promotion's discount can only shrink when pieces are taken (pieces sorted
    dearest first only get cheaper or fewer), so a candidate is worked out again only when it
    reaches the top of the heap after another promotion took pieces of lines it used. The
    choice is the same as working every candidate out again each round (tested so)."""
    index = promotions if isinstance(promotions, PromotionIndex) else PromotionIndex(promotions)
    free = {item.line_no: item.quantity for item in items if item.quantity > 0}
    # dearest first, then the lower line number: every promotion's covered items keep this
    # order, so working a candidate out needs no sort
    covering = index.covering(sorted(items, key=lambda item: (-item.unit_price, item.line_no)))
    results = {pid: _best(promotion, covered, free)
               for pid, (promotion, covered) in covering.items()}
    heap = [(-found[0], pid) for pid, found in results.items() if found[0] > 0]
    heapq.heapify(heap)
    stale: set[str] = set()
    result: list[Applied] = []
    while heap:
        _, pid = heapq.heappop(heap)
        if pid in stale:
            stale.discard(pid)
            results[pid] = _best(covering[pid][0], covering[pid][1], free)
            if results[pid][0] > 0:
                heapq.heappush(heap, (-results[pid][0], pid))
            continue
        discount, used, value = results.pop(pid)
        for line_no, pieces in used.items():
            free[line_no] -= pieces
        # a candidate's pieces in use are a prefix of its dearest-first order (a percent
        # promotion's are its lines): taking pieces of lines it does not use leaves its
        # result as it is
        taken = used.keys()
        for other, found in results.items():
            if other not in stale and not taken.isdisjoint(found[1]):
                stale.add(other)
        promotion = covering[pid][0]
        result.append(Applied(promotion.id, promotion.name, promotion.version, discount,
                              tuple(sorted(allocate(discount, value).items()))))
    return result


def allocate(discount: int, value: dict[int, int]) -> dict[int, int]:
    """`discount` spread over lines in proportion to `value` (line_no -> cents); largest
    remainder, ties to the lower line number; shares sum to `discount` exactly."""
    total = sum(value.values())
    if total <= 0:
        raise ValueError("nothing to spread a discount over")
    order = sorted(value)
    shares = {n: discount * value[n] // total for n in order}
    rest = discount - sum(shares.values())
    for n in sorted(order, key=lambda n: (-(discount * value[n] % total), n))[:rest]:
        shares[n] += 1
    return {n: c for n, c in shares.items() if c > 0}


def refund_share(discount: int, quantity: int, refunded_before: int, refunding: int) -> int:
    """The part of a line's promotion share `discount` (on `quantity` pieces) that goes back
    with `refunding` more pieces when `refunded_before` already went back: cumulative and
    rounded down, so returning every piece, in any steps, gives back exactly `discount`."""
    if quantity == 0:
        return 0
    done = refunded_before + refunding
    return discount * done // quantity - discount * refunded_before // quantity


def _best(promotion: Promotion, items: Sequence[Item],
          free: dict[int, int]) -> tuple[int, dict[int, int], dict[int, int]]:
    """(discount, pieces used per line, value covered per line) of one promotion on the free
    pieces of the items it covers. Runs on every candidate of every scan: kept lean."""
    used: dict[int, int] = {}
    value: dict[int, int] = {}
    discount = 0
    if promotion.type == "percent":
        times_two = promotion.percent * 2
        for item in items:
            pieces = free.get(item.line_no, 0)
            if pieces <= 0:
                continue
            worth = item.unit_price * pieces
            cents = (worth * times_two + 100) // 200  # percent_of: half up, amounts >= 0
            if cents > 0:
                used[item.line_no] = pieces
                value[item.line_no] = worth
                discount += cents
        return discount, used, value
    runs = [(-item.unit_price, item.line_no, free[item.line_no]) for item in items
            if free.get(item.line_no, 0) > 0]  # items come dearest first (evaluate)
    if not runs:
        return 0, used, value
    size = promotion.n if promotion.type != "buy_get" else promotion.buy + promotion.get
    for group, times in (_slices(runs, size) if len(runs) * 4 >= sum(r[2] for r in runs)
                         else _groups(runs, size)):
        cents = _group_discount(promotion, group)
        if cents <= 0:
            if promotion.type == "n_for_price":
                break  # later groups are cheaper still
            continue
        discount += cents * times
        for price, line_no in group:
            used[line_no] = used.get(line_no, 0) + times
            value[line_no] = value.get(line_no, 0) + price * times
    return discount, used, value


def _group_discount(promotion: Promotion, group: list[Piece]) -> int:
    if promotion.type == "n_for_price":
        return sum(price for price, _ in group) - promotion.price_cents
    if promotion.type == "buy_get":
        return sum(price for price, _ in group[-promotion.get:])
    return percent_of(group[-1][0], promotion.percent * 100)  # nth_percent


def _slices(runs: list[tuple[int, int, int]], size: int) -> Iterator[tuple[list[Piece], int]]:
    """The same groups as _groups, one by one from the pieces laid out: quicker when most
    lines are a few pieces (the usual ticket), slower for a line of thousands."""
    pieces: list[Piece] = []
    for negative_price, line_no, count in runs:
        if count == 1:
            pieces.append((-negative_price, line_no))
        else:
            pieces.extend([(-negative_price, line_no)] * count)
    for start in range(0, len(pieces) - size + 1, size):
        yield pieces[start:start + size], 1


def _groups(runs: list[tuple[int, int, int]], size: int) -> Iterator[tuple[list[Piece], int]]:
    """Whole groups of `size` pieces over runs (-price, line_no, count), in order, as
    (group, how many times it repeats): a run of 9,999 pieces is a few groups, not 9,999."""
    group: list[Piece] = []
    for negative_price, line_no, count in runs:
        price = -negative_price
        left = count
        if group:
            take = min(size - len(group), left)
            group.extend([(price, line_no)] * take)
            left -= take
            if len(group) == size:
                yield group, 1
                group = []
        if left >= size:
            yield [(price, line_no)] * size, left // size
            left %= size
        if left:
            group = [(price, line_no)] * left
