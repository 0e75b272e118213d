"""Typed refusals of the till: one class per kind, carrying its parameters.

The UI translates an error by its type: it looks up the class's `template` (the English
msgid, with `{name}` placeholders) in its catalogue and fills in `params`. Nothing may branch
on the message text. Conventions for parameters:
- a name ending in `_cents` is a money amount in integer cents (the UI formats it, e.g. with
  Babel; `str()` here uses the Dutch format of contract.money);
- values are names, numbers and codes (a journal entry type such as "sale", a tender kind
  such as "card", a product name), never English prose: where the wording differs, there is
  a separate class.

`str(error)` is the English text, for logs and the command line.
"""

from __future__ import annotations

from typing import ClassVar

from contract import gtin
from contract.money import format_money


class TillError(Exception):
    """A refused till operation; nothing was changed."""

    template: ClassVar[str] = "the till refused the operation"

    def __init__(self, **params: object) -> None:
        super().__init__()
        self.params: dict[str, object] = params

    def __str__(self) -> str:
        return self.template.format(**{
            name: format_money(value) if name.endswith("_cents") and isinstance(value, int)
            else value for name, value in self.params.items()})

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
        return f"{type(self).__name__}({args})"


# --- storage and the journal ----------------------------------------------------------------
class StorageError(TillError):
    """The journal could not be written (disk full, I/O error): nothing was stored."""

    template = "the journal could not be written: the {entry_type} was NOT stored"


class StorageFull(StorageError):
    template = "the disk is full: the {entry_type} was NOT stored; free space, then try again"

    def __init__(self, entry_type: str) -> None:
        super().__init__(entry_type=entry_type)


class StorageFailed(StorageError):
    template = "the journal could not be written ({cause}): the {entry_type} was NOT stored"

    def __init__(self, entry_type: str, cause: str) -> None:
        super().__init__(entry_type=entry_type, cause=cause)


def storage_error(exc: BaseException, entry_type: str) -> StorageError:
    """The typed error for a failed write. SQLite rolls back by itself on a full disk, so the
    failed ROLLBACK that follows hides the cause: look down the exception chain."""
    causes = [str(exc)]
    while exc.__context__ is not None and len(causes) < 6:
        exc = exc.__context__
        causes.append(str(exc))
    if any("full" in cause for cause in causes):
        return StorageFull(entry_type)
    return StorageFailed(entry_type, causes[-1])


class JournalAlarmActive(TillError):
    """The start-up check found a problem (a journal problem code such as "edited")."""

    template = ("selling is blocked: the journal failed its start-up check ({problem}). "
                "A manager must acknowledge the journal alarm first.")

    def __init__(self, problem: str) -> None:
        super().__init__(problem=problem)


class TotalsNotSealed(TillError):
    """The running totals lost their seal (edited outside the till): no Z is signed over them."""

    template = ("the day close was NOT made: the running totals do not match the journal. "
                "A manager must acknowledge the journal alarm first.")

    def __init__(self) -> None:
        super().__init__()


class NoJournalAlarm(TillError):
    template = "there is no journal alarm to acknowledge"

    def __init__(self) -> None:
        super().__init__()


# --- who is at the till -------------------------------------------------------------------
class NotLoggedIn(TillError):
    template = "log in first"

    def __init__(self) -> None:
        super().__init__()


class AuthError(TillError):
    """A wrong PIN, a locked account or the wrong role."""

    template = "the PIN was not accepted"


class WrongPin(AuthError):
    template = "wrong PIN"

    def __init__(self) -> None:
        super().__init__()


class PinEntryLocked(AuthError):
    template = "PIN entry is locked; try again later"

    def __init__(self) -> None:
        super().__init__()


class UserLocked(AuthError):
    template = "{name} is locked for {seconds} s after wrong PINs"

    def __init__(self, name: str, seconds: int) -> None:
        super().__init__(name=name, seconds=seconds)


class WrongRole(AuthError):
    """The PIN is right but belongs to someone without the role (a code: "manager")."""

    template = "{name} is not a {role}"

    def __init__(self, name: str, role: str) -> None:
        super().__init__(name=name, role=role)


class TrainingAlreadyOn(TillError):
    template = "training mode is already on"

    def __init__(self) -> None:
        super().__init__()


class TrainingAlreadyOff(TillError):
    template = "training mode is already off"

    def __init__(self) -> None:
        super().__init__()


class TrainingActive(TillError):
    template = "leave training mode before the day close"

    def __init__(self) -> None:
        super().__init__()


# --- codes and products -------------------------------------------------------------------
class InvalidCode(TillError):
    """A scanned or typed code that cannot be read as a product code."""

    template = "code {code} cannot be used"


class EmptyCode(InvalidCode):
    template = "empty barcode"

    def __init__(self) -> None:
        super().__init__()


class UnreadableCode(InvalidCode):
    template = "barcode {code} is unreadable: only digits are allowed"

    def __init__(self, code: str) -> None:
        super().__init__(code=code)


class CodeLength(InvalidCode):
    template = "barcode {code} has {digits} digits; a GTIN has 8, 12, 13 or 14"

    def __init__(self, code: str, digits: int) -> None:
        super().__init__(code=code, digits=digits)


class CheckDigit(InvalidCode):
    template = "barcode {code} ({symbology}) has check digit {check_digit}, expected {expected}"

    def __init__(self, code: str, symbology: str, check_digit: int, expected: int) -> None:
        super().__init__(code=code, symbology=symbology, check_digit=check_digit,
                         expected=expected)


class WeightCodeForPieceProduct(InvalidCode):
    template = "in-store code {code} carries a weight but {product} is not sold by weight"

    def __init__(self, code: str, product: str) -> None:
        super().__init__(code=code, product=product)


def code_refused(exc: gtin.BarcodeError) -> InvalidCode:
    """The till's typed error for a code contract/gtin.py refused."""
    p = exc.params
    if isinstance(exc, gtin.EmptyBarcode):
        return EmptyCode()
    if isinstance(exc, gtin.UnreadableBarcode):
        return UnreadableCode(str(p["code"]))
    if isinstance(exc, gtin.BarcodeLength):
        return CodeLength(str(p["code"]), int(p["digits"]))
    if isinstance(exc, gtin.BadCheckDigit):
        return CheckDigit(str(p["code"]), str(p["symbology"]), int(p["check_digit"]),
                          int(p["expected"]))
    return InvalidCode(code=str(p.get("code", "")))


class UnknownProduct(TillError):
    """A valid code that no active product carries."""

    template = "no active product with barcode {code}"

    def __init__(self, code: str) -> None:
        super().__init__(code=code)


class UnknownPlu(UnknownProduct):
    template = "no active product with PLU {plu}"

    def __init__(self, plu: str) -> None:
        TillError.__init__(self, plu=plu)


class UnknownItemNumber(UnknownProduct):
    template = "in-store code {code}: no active product with item number {item}"

    def __init__(self, code: str, item: str) -> None:
        TillError.__init__(self, code=code, item=item)


class UnknownProductId(UnknownProduct):
    template = "product {product_id} is not in the catalogue"

    def __init__(self, product_id: int | str) -> None:
        TillError.__init__(self, product_id=product_id)


class NeedsWeight(TillError):
    template = "{product} is sold by weight: weigh it, type its weight or scan the scale label"

    def __init__(self, product: str) -> None:
        super().__init__(product=product)


# --- the open ticket ----------------------------------------------------------------------
class TicketError(TillError):
    """An operation the open ticket refuses; the ticket is left as it was."""

    template = "the ticket refused the change"


class NoSuchLine(TicketError):
    template = "there is no line {line_no} on the ticket"

    def __init__(self, line_no: int) -> None:
        super().__init__(line_no=line_no)


class QuantityOutOfRange(TicketError):
    template = "quantity {quantity} must be between {minimum} and {maximum}"

    def __init__(self, quantity: int, minimum: int, maximum: int) -> None:
        super().__init__(quantity=quantity, minimum=minimum, maximum=maximum)


class DiscountExceedsLine(TicketError):
    template = "the line discount is larger than the new line amount"

    def __init__(self) -> None:
        super().__init__()


class LineDiscountOutOfRange(TicketError):
    template = "discount {discount_cents} is not between 0 and the line amount {maximum_cents}"

    def __init__(self, discount_cents: int, maximum_cents: int) -> None:
        super().__init__(discount_cents=discount_cents, maximum_cents=maximum_cents)


class TicketDiscountOutOfRange(TicketError):
    template = "discount {discount_cents} is not between 0 and the subtotal {maximum_cents}"

    def __init__(self, discount_cents: int, maximum_cents: int) -> None:
        super().__init__(discount_cents=discount_cents, maximum_cents=maximum_cents)


class NegativePrice(TicketError):
    template = "a price cannot be negative ({price_cents})"

    def __init__(self, price_cents: int) -> None:
        super().__init__(price_cents=price_cents)


class PaymentStarted(TicketError):
    template = "payment has started; cancel the payments first to change the ticket"

    def __init__(self) -> None:
        super().__init__()


class TicketEmpty(TicketError):
    template = "the ticket is empty"

    def __init__(self) -> None:
        super().__init__()


class TenderNotPositive(TicketError):
    template = "the amount tendered must be positive"

    def __init__(self) -> None:
        super().__init__()


class NothingDue(TicketError):
    template = "nothing is due"

    def __init__(self) -> None:
        super().__init__()


class TenderTooSmall(TicketError):
    template = "tendered {given_cents} is less than the {due_cents} due"

    def __init__(self, given_cents: int, due_cents: int) -> None:
        super().__init__(given_cents=given_cents, due_cents=due_cents)


class CardReferenceMissing(TicketError):
    template = "a card payment needs the payment terminal's reference"

    def __init__(self) -> None:
        super().__init__()


class CardAmountOutOfRange(TicketError):
    template = "card amount {amount_cents} must be between € 0,01 and the {due_cents} due"

    def __init__(self, amount_cents: int, due_cents: int) -> None:
        super().__init__(amount_cents=amount_cents, due_cents=due_cents)


class VoucherCodeMissing(TicketError):
    template = "a voucher payment needs the voucher code"

    def __init__(self) -> None:
        super().__init__()


class VoucherValueNotPositive(TicketError):
    template = "the voucher value must be positive"

    def __init__(self) -> None:
        super().__init__()


class VoucherAlreadyOnTicket(TicketError):
    template = "voucher {code} is already on this ticket"

    def __init__(self, code: str) -> None:
        super().__init__(code=code)


class TicketOpen(TillError):
    template = "finish or park the open ticket first"

    def __init__(self) -> None:
        super().__init__()


class NothingToPark(TillError):
    template = "there is nothing to park"

    def __init__(self) -> None:
        super().__init__()


class NoSuchParkedTicket(TillError):
    template = "there is no parked ticket {parked_id}"

    def __init__(self, parked_id: int) -> None:
        super().__init__(parked_id=parked_id)


class PricingError(TillError):
    """A pricing rule failed: the edit was refused so that nothing sells at a wrong price."""

    template = ("pricing rule {rule} failed: the ticket was left as it was; remove the "
                "customer or call a manager")

    def __init__(self, rule: str) -> None:
        super().__init__(rule=rule)


# --- after the sale -----------------------------------------------------------------------
class NotASale(TillError):
    template = "receipt {seq} is not a sale on this till"

    def __init__(self, seq: int) -> None:
        super().__init__(seq=seq)


class NoSuchReceipt(TillError):
    template = "there is no receipt {seq} on this till"

    def __init__(self, seq: int) -> None:
        super().__init__(seq=seq)


class NothingToRefund(TillError):
    template = "choose at least one line to refund"

    def __init__(self) -> None:
        super().__init__()


class NoSuchReceiptLine(TillError):
    template = "receipt {seq} has no line {line_no}"

    def __init__(self, seq: int, line_no: int) -> None:
        super().__init__(seq=seq, line_no=line_no)


class NotRefundable(TillError):
    template = "line {line_no}: {quantity} to refund, but only {remaining} can still be refunded"

    def __init__(self, line_no: int, quantity: int, remaining: int) -> None:
        super().__init__(line_no=line_no, quantity=quantity, remaining=remaining)


class RefundReferenceMissing(TillError):
    template = "a card refund needs the payment terminal's reference"

    def __init__(self) -> None:
        super().__init__()


class RefundTenderNotAllowed(TillError):
    template = "refunds are paid out in cash or to a card, not {tender}"

    def __init__(self, tender: str) -> None:
        super().__init__(tender=tender)


class AlreadyRefunded(TillError):
    template = "receipt {seq} was already (partly) refunded or voided"

    def __init__(self, seq: int) -> None:
        super().__init__(seq=seq)


# --- cash and the day close ---------------------------------------------------------------
class UnknownCashMovement(TillError):
    template = "unknown cash movement {kind}"

    def __init__(self, kind: str) -> None:
        super().__init__(kind=kind)


class AmountNotPositive(TillError):
    template = "the amount must be positive, not {amount_cents}"

    def __init__(self, amount_cents: int) -> None:
        super().__init__(amount_cents=amount_cents)


class ReasonRequired(TillError):
    template = "cash in and cash out need a reason"

    def __init__(self) -> None:
        super().__init__()


class UnknownDenomination(TillError):
    template = "{denomination_cents} is not a configured denomination"

    def __init__(self, denomination_cents: int) -> None:
        super().__init__(denomination_cents=denomination_cents)


class BadPieceCount(TillError):
    template = "the count of {denomination_cents} pieces must be a whole number >= 0, not {count}"

    def __init__(self, denomination_cents: int, count: object) -> None:
        super().__init__(denomination_cents=denomination_cents, count=count)


# --- customers and favourites -------------------------------------------------------------
class CustomerError(TillError):
    """An unknown card or customer."""

    template = "the customer is not known on this till"


class UnknownCard(CustomerError):
    template = ("loyalty card {card} is not known on this till (new cards arrive with head "
                "office's next offers update)")

    def __init__(self, card: str) -> None:
        super().__init__(card=card)


class NoCustomer(CustomerError):
    template = "scan the customer's loyalty card first"

    def __init__(self) -> None:
        super().__init__()


class SignupError(TillError):
    """A customer sign-up the till refused; nothing was kept."""

    template = "the sign-up was not taken"


class BadSignupEmail(SignupError):
    """An address that cannot be one; a subclass per problem (contract.signup.EMAIL_PROBLEMS)."""

    template = "{email} is not an e-mail address"

    def __init__(self, email: str) -> None:
        super().__init__(email=email)


class SignupEmailEmpty(BadSignupEmail):
    template = "type the customer's e-mail address first"


class SignupEmailTooLong(BadSignupEmail):
    template = "{email} is too long for an e-mail address"


class SignupEmailAtSign(BadSignupEmail):
    template = "{email} needs exactly one @"


class SignupEmailMailbox(BadSignupEmail):
    template = "{email}: the part before the @ is not a mailbox name"


class SignupEmailDomain(BadSignupEmail):
    template = "{email}: the part after the @ is not a domain such as example.nl"


class SignupNameTooLong(SignupError):
    template = "the name is longer than {limit} characters"

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit)


class SignupInTraining(SignupError):
    template = "no sign-ups in training mode: a real customer's data is not practice material"

    def __init__(self) -> None:
        super().__init__()


class NoProductCode(TillError):
    template = "{product} has no barcode or PLU to remember it by"

    def __init__(self, product: str) -> None:
        super().__init__(product=product)


# --- stock --------------------------------------------------------------------------------
class NotStockTracked(TillError):
    template = "{product} is not stock-tracked"

    def __init__(self, product: str) -> None:
        super().__init__(product=product)


class NothingReceived(TillError):
    template = "enter at least one product received"

    def __init__(self) -> None:
        super().__init__()


class NothingCounted(TillError):
    template = "enter at least one counted product"

    def __init__(self) -> None:
        super().__init__()


class ReceivedOutOfRange(TillError):
    template = "{product}: {quantity} received must be {minimum}..{maximum}"

    def __init__(self, product: str, quantity: object, minimum: int, maximum: int) -> None:
        super().__init__(product=product, quantity=quantity, minimum=minimum, maximum=maximum)


class CountOutOfRange(TillError):
    template = "{product}: counted {quantity} must be {minimum}..{maximum}"

    def __init__(self, product: str, quantity: object, minimum: int, maximum: int) -> None:
        super().__init__(product=product, quantity=quantity, minimum=minimum, maximum=maximum)


class CountedTwice(TillError):
    template = "{product} is counted twice"

    def __init__(self, product: str) -> None:
        super().__init__(product=product)


# --- issue 22: what a cashier needs to know after one wrong tap -----------------------------
class WrongPinTriesLeft(WrongPin):
    """A wrong PIN with the number of tries before PIN entry locks (two or more)."""

    template = "wrong PIN; {remaining} tries left"

    def __init__(self, remaining: int) -> None:
        TillError.__init__(self, remaining=remaining)


class WrongPinLastTry(WrongPin):
    template = "wrong PIN; one more wrong PIN locks the PIN entry"

    def __init__(self) -> None:
        TillError.__init__(self)


class WrongPinLocked(WrongPin):
    """The wrong PIN that used up the last try: the lockout starts now."""

    template = "wrong PIN; PIN entry is locked for {seconds} s"

    def __init__(self, seconds: int) -> None:
        TillError.__init__(self, seconds=seconds)


class PinEntryLockedFor(PinEntryLocked):
    """PIN entry is locked; `seconds` until it opens again (the dialog counts them down)."""

    template = "PIN entry is locked; try again in {seconds} s"

    def __init__(self, seconds: int) -> None:
        TillError.__init__(self, seconds=seconds)


class DrawerOpenAtClose(TillError):
    """The Z close waits for the drawer to be shut: the counted cash must be in it."""

    template = "close the cash drawer first, then close the day"

    def __init__(self) -> None:
        super().__init__()


class NoSaleToReprint(TillError):
    template = "there is no sale to reprint yet"

    def __init__(self) -> None:
        super().__init__()


# --- age check and deposit (firmware/age_check.py, firmware/deposit.py) --------------------
class AgeCheckPending(TicketError):
    """An age-limited item waits for the cashier's answer: the ticket cannot be paid yet."""

    template = "confirm that the customer is {age} or older, or refuse the item, before payment"

    def __init__(self, age: int) -> None:
        super().__init__(age=age)


class NoAgeCheckPending(TicketError):
    template = "no item on this ticket waits for an age check"

    def __init__(self) -> None:
        super().__init__()


class DepositFollowsProduct(TicketError):
    """A deposit line moves with its product: same quantity, removed with it."""

    template = ("line {line_no} is a deposit: it follows its product; change or remove the "
                "product's line instead")

    def __init__(self, line_no: int) -> None:
        super().__init__(line_no=line_no)


class UnknownDeposit(TillError):
    template = "no product on this till has deposit {code}"

    def __init__(self, code: str) -> None:
        super().__init__(code=code)


class EmptiesExceedTicket(TicketError):
    """Returned empties are set off against a purchase: the ticket never goes below zero."""

    template = ("the empties ({amount_cents}) are worth more than the ticket ({total_cents}): "
                "scan the purchase first")

    def __init__(self, amount_cents: int, total_cents: int) -> None:
        super().__init__(amount_cents=amount_cents, total_cents=total_cents)
