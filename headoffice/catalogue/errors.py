"""Typed errors of the product master; each names what was wrong with its parameters."""

from __future__ import annotations


class MasterError(ValueError):
    """Base: `template` is the English wording, `params` the details (for translation)."""

    template = "product master: {detail}"

    def __init__(self, **params: object) -> None:
        self.params = params
        super().__init__(self.template.format(**params))


class BadField(MasterError):
    template = "{field}: {reason} (got {value!r})"

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(field=field, value=value, reason=reason)


class UnknownProduct(MasterError):
    template = "no product with code {code}"

    def __init__(self, code: str) -> None:
        super().__init__(code=code)


class UnknownDeposit(MasterError):
    template = "no deposit type {code!r} (add it with `deposit add`)"

    def __init__(self, code: str) -> None:
        super().__init__(code=code)


class CodeTaken(MasterError):
    template = "{kind} {code} already belongs to product {sku}"

    def __init__(self, kind: str, code: str, sku: str) -> None:
        super().__init__(kind=kind, code=code, sku=sku)


class UnknownPromotion(MasterError):
    template = "no promotion {promo_id!r}"

    def __init__(self, promo_id: str) -> None:
        super().__init__(promo_id=promo_id)
