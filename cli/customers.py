"""`kassa customers|stock|offers|webshop ...`: customers, one stock, offers and the webshop
at head office. All take --db like `kassa office` (default $KASSA_OFFICE_DB)."""

from __future__ import annotations

import argparse
import sys

from cli.audited import audited


def db_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="head-office database (a SQLite path, sqlite:///path or "
                        "postgresql://...; default: $KASSA_OFFICE_DB, var/office.sqlite3)")


def open_db(args: argparse.Namespace) -> None:
    from headoffice.db import open_office_db

    open_office_db(args.db)


def mail_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--smtp-host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=25)
    parser.add_argument("--smtp-starttls", action="store_true")
    parser.add_argument("--mail-from", default="Kassa <noreply@localhost>")
    parser.add_argument("--base-url", default="http://localhost:8080",
                        help="public address serving /unsubscribe/<token>")
    parser.add_argument("--mail-rate", type=int, default=60, help="most mails per minute")
    parser.add_argument("--shop-name", default="Kassa")


def mailer_from(args: argparse.Namespace):
    from headoffice.notify.mailer import Mailer, MailSettings

    return Mailer(MailSettings(host=args.smtp_host, port=args.smtp_port, sender=args.mail_from,
                               starttls=args.smtp_starttls, base_url=args.base_url,
                               max_per_minute=args.mail_rate))


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("customers", help="loyalty customers, consent, favourites, erasure;"
                            " `sync` applies the journal, mails and publishes offers")
    db_arg(parser)
    csub = parser.add_subparsers(dest="customers_command", required=True)
    add = csub.add_parser("add", help="create an account with a loyalty card")
    add.add_argument("name")
    add.add_argument("email")
    add.add_argument("--language", default="nl", choices=("nl", "en"))
    add.add_argument("--store", default="", help="home shop (store id)")
    add.add_argument("--consent", choices=("till", "office", "webshop"),
                     help="marketing consent given now, through this channel")
    add.add_argument("--card-prefix", default="299", help="scanner.loyalty_prefix of the tills")
    add.set_defaults(handler=run_add)
    listing = csub.add_parser("list", help="find customers by name, e-mail or card")
    listing.add_argument("text", nargs="?", default="")
    listing.set_defaults(handler=run_list)
    consent = csub.add_parser("consent", help="record consent given or withdrawn")
    consent.add_argument("ref", help="customer id, card or e-mail")
    consent.add_argument("answer", choices=("yes", "no"))
    consent.add_argument("--source", default="office", choices=("till", "office", "webshop"))
    consent.set_defaults(handler=run_consent)
    fav = csub.add_parser("favourite", help="add (or --remove) a favourite product")
    fav.add_argument("ref")
    fav.add_argument("sku", help="GTIN or plu:<number>")
    fav.add_argument("--remove", action="store_true")
    fav.set_defaults(handler=run_favourite)
    erase = csub.add_parser("erase", help="GDPR erasure: personal data and the id mapping go")
    erase.add_argument("ref")
    erase.set_defaults(handler=run_erase)
    export = csub.add_parser("export", help="right of access: the customer's data as JSON and PDF")
    export.add_argument("ref", help="customer id, card or e-mail")
    export.add_argument("--out", default=".", help="directory for gegevens-<id>.json and .pdf")
    export.add_argument("--asked-by", required=True,
                        help="who asks (recorded with the request), e.g. the customer or staff")
    export.set_defaults(handler=run_export)
    edit = csub.add_parser("edit", help="change a profile (only the fields given)")
    edit.add_argument("ref")
    edit.add_argument("--name")
    edit.add_argument("--email")
    edit.add_argument("--language", choices=("nl", "en"))
    edit.add_argument("--store", help="home shop (store id)")
    edit.set_defaults(handler=run_edit)
    merge = csub.add_parser("merge", help="fold a duplicate account into another")
    merge.add_argument("keep", help="the account that stays")
    merge.add_argument("duplicate", help="the account folded into it")
    merge.set_defaults(handler=run_merge)
    names = csub.add_parser("store-name", help="the shop's name in mails (instead of its id)")
    names.add_argument("store")
    names.add_argument("name")
    names.set_defaults(handler=run_store_name)
    sync = csub.add_parser("sync", help="apply the stored journal to stock and history, send "
                           "back-in-stock mails, publish offers to the tills")
    mail_args(sync)
    sync.add_argument("--mqtt-host", default="127.0.0.1")
    sync.add_argument("--mqtt-port", type=int, default=1883)
    sync.add_argument("--ca", default="", help="CA certificate of the broker (TLS)")
    sync.add_argument("--cert", default="", help="head office's client certificate (TLS)")
    sync.add_argument("--key", default="", help="its private key (TLS)")
    sync.add_argument("--no-publish", action="store_true", help="do not publish offers")
    sync.add_argument("--loop", type=float, default=0, help="repeat every N seconds")
    sync.add_argument("--watch", action="store_true",
                      help="also run at once when a till's offer redemption arrives (publishes "
                      "it to the other tills within about a second); --loop N is the fallback")
    sync.set_defaults(handler=run_sync)


@audited("customer", "language", "store", "consent")
def run_add(args: argparse.Namespace) -> int:
    from headoffice.customers import service

    open_db(args)
    try:
        c = service.create(args.name, args.email, args.language, args.store,
                           consent=args.consent is not None,
                           consent_source=args.consent or "office", card_prefix=args.card_prefix)
    except (service.CustomerError, ValueError) as exc:
        print(f"kassa customers add: {exc}", file=sys.stderr)
        return 1
    args.audit_detail = f"customer={c.customer_id}"
    print(f"customer {c.customer_id} card {c.card} consent "
          f"{'yes (' + str(c.consent_source) + ')' if c.consent else 'no'}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from headoffice.customers import service

    open_db(args)
    rows = service.find(args.text)
    for c in rows:
        print(f"{c.customer_id:20} {c.card:14} {c.name:24} {c.email:28} {c.language} "
              f"store={c.home_store or '-'} consent={'yes' if c.consent else 'no'}"
              f" favourites={','.join(c.favourites) or '-'}")
    print(f"{len(rows)} customer(s)")
    return 0


@audited("customer", "answer", "source")
def run_consent(args: argparse.Namespace) -> int:
    from headoffice.customers import service

    open_db(args)
    try:
        c = service.set_consent(args.ref, args.answer == "yes", args.source)
    except service.CustomerError as exc:
        print(f"kassa customers consent: {exc}", file=sys.stderr)
        return 1
    args.audit_detail = f"customer={c.customer_id}"
    print(f"{c.customer_id}: consent {'yes' if c.consent else 'no'} since {c.consent_date}"
          f" ({c.consent_source})")
    return 0


@audited("customer", "sku", "remove")
def run_favourite(args: argparse.Namespace) -> int:
    from headoffice.customers import service

    open_db(args)
    try:
        c = service.get(args.ref)
        if args.remove:
            service.remove_favourite(c.customer_id, args.sku)
        else:
            service.add_favourite(c.customer_id, args.sku, "office")
    except (service.CustomerError, ValueError) as exc:
        print(f"kassa customers favourite: {exc}", file=sys.stderr)
        return 1
    args.audit_detail = f"customer={c.customer_id}"
    print(f"{c.customer_id}: favourites {', '.join(service.get(c.customer_id).favourites) or '-'}")
    return 0


@audited("customer_erase")  # the id only: the trail keeps no name or e-mail of an erased one
def run_erase(args: argparse.Namespace) -> int:
    from headoffice import privacy
    from headoffice.customers import service

    open_db(args)
    try:
        done = privacy.erase_everywhere(args.ref)
    except service.CustomerError as exc:
        print(f"kassa customers erase: {exc}", file=sys.stderr)
        return 1
    args.audit_detail = f"customer={done.customer_id}"
    print(f"erased {done.customer_id}: name, e-mail, card, favourites, history, consent log and "
          f"{done.mails} mail record(s) deleted; e-mail blanked on {done.orders} webshop "
          f"order(s) and {done.log_lines} log line(s); freed bytes overwritten. The journal "
          "keeps only the pseudonym. Run `kassa customers sync` to remove the card from the "
          "tills.")
    return 0


def _who() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


def _customer_command(name: str):
    """Opens the database, runs the command and turns a refused change (CustomerError) into
    `kassa customers <name>: <reason>` on stderr and exit status 1."""
    def wrap(run):
        def handler(args: argparse.Namespace) -> int:
            from headoffice.customers.service import CustomerError

            open_db(args)
            try:
                print(run(args))
            except CustomerError as exc:
                print(f"kassa customers {name}: {exc}", file=sys.stderr)
                return 1
            return 0
        return handler
    return wrap


@audited("customer_export", "out")
@_customer_command("export")
def run_export(args: argparse.Namespace) -> str:
    from pathlib import Path

    from headoffice.access_export import as_json, as_pdf, customer_data

    data = customer_data(args.ref, f"{args.asked_by} ({_who()})", "cli")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cid = data["profile"]["customer_id"]
    args.audit_detail = f"customer={cid}"
    (out / f"gegevens-{cid}.json").write_bytes(as_json(data))
    (out / f"gegevens-{cid}.pdf").write_bytes(as_pdf(data))
    return (f"{cid}: {out / f'gegevens-{cid}.json'} and {out / f'gegevens-{cid}.pdf'} "
            f"({len(data['purchases'])} purchase line(s), {len(data['offers'])} offer(s), "
            f"{len(data['mails_sent'])} mail(s)); request recorded")


@audited("customer", "language", "store")
@_customer_command("edit")
def run_edit(args: argparse.Namespace) -> str:
    from headoffice.customers import service

    c = service.get(args.ref)
    c = service.update_profile(
        c.customer_id, name=args.name if args.name is not None else c.name,
        email=args.email if args.email is not None else c.email,
        language=args.language or c.language,
        home_store=args.store if args.store is not None else c.home_store, by=_who())
    given = [field for field in ("name", "email") if getattr(args, field) is not None]
    args.audit_detail = f"customer={c.customer_id}" + (f" changed={','.join(given)}" if given else "")
    return f"{c.customer_id}: {c.name} <{c.email}> {c.language} store={c.home_store or '-'}"


@audited("customer")
@_customer_command("merge")
def run_merge(args: argparse.Namespace) -> str:
    from headoffice.customers import service

    duplicate = service.get(args.duplicate).customer_id
    c = service.merge(args.keep, args.duplicate, _who())
    args.audit_detail = f"customer={c.customer_id} merged={duplicate}"
    return f"merged into {c.customer_id}: favourites {', '.join(c.favourites) or '-'}"


@audited("change", "store", "name")
def run_store_name(args: argparse.Namespace) -> int:
    from headoffice.notify.backinstock import set_store_name

    open_db(args)
    if not args.name.strip():
        print("kassa customers store-name: the name is empty", file=sys.stderr)
        return 1
    set_store_name(args.store, args.name)
    print(f"{args.store}: mails say {args.name.strip()!r}")
    return 0


def run_sync(args: argparse.Namespace) -> int:
    """One pass, or --loop N passes; with --watch a pass also starts the moment a till's
    offer redemption has been stored, so the other tills hear of it within a second."""
    from headoffice.broker import BrokerSettings
    from headoffice.offers.publish import client_id
    from headoffice.offers.watch import RedemptionWatcher, wait_stored

    open_db(args)
    mailer = mailer_from(args)
    broker = BrokerSettings(args.mqtt_host, args.mqtt_port, ca_file=args.ca,
                            cert_file=args.cert, key_file=args.key)
    watcher = None
    if args.watch:
        watcher = RedemptionWatcher(broker, client_id() + "-watch")
        watcher.start()
    try:
        while True:
            _sync_pass(args, mailer, broker)
            if watcher is not None:
                seen = watcher.wait(args.loop or 60)
                if seen:
                    wait_stored(seen)
                continue
            if not args.loop:
                return 0
            import time

            time.sleep(args.loop)
    finally:
        if watcher is not None:
            watcher.stop()


def _sync_pass(args: argparse.Namespace, mailer, broker) -> None:
    from headoffice.broker import publisher
    from headoffice.journal_feed import apply_journal
    from headoffice.notify.backinstock import send_back_in_stock
    from headoffice.offers.publish import client_id, next_messages, publish

    fed = apply_journal()
    mails = send_back_in_stock(mailer, args.shop_name)
    published = 0
    if not args.no_publish:
        try:
            messages = next_messages()
            if messages:
                with publisher(broker, client_id()) as send:
                    published = publish(messages, send)
        except (OSError, TimeoutError) as exc:
            print(f"offers not published (kept for the next run): {exc}", file=sys.stderr)
            from headoffice.offers.models import Published

            Published.update(digest="").execute()  # publish again next time
    types = ", ".join(f"{k} {v}" for k, v in sorted(fed.by_type.items())) or "nothing new"
    print(f"journal: {fed.entries} entries ({types}); back-in-stock mails: {mails.sent} sent,"
          f" {mails.failed} failed{' (rate limit reached)' if mails.rate_limited else ''};"
          f" offers published to {published} store(s)", flush=True)
    for error in mails.errors:
        print(f"  mail failed: {error}", file=sys.stderr)
