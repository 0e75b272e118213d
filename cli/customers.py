"""`kassa customers|stock|offers|webshop ...`: customers, one stock, offers and the webshop
at head office. All take --db like `kassa office` (default $KASSA_OFFICE_DB)."""

from __future__ import annotations

import argparse
import sys


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
    sync.set_defaults(handler=run_sync)


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


def run_consent(args: argparse.Namespace) -> int:
    from headoffice.customers import service

    open_db(args)
    try:
        c = service.set_consent(args.ref, args.answer == "yes", args.source)
    except service.CustomerError as exc:
        print(f"kassa customers consent: {exc}", file=sys.stderr)
        return 1
    print(f"{c.customer_id}: consent {'yes' if c.consent else 'no'} since {c.consent_date}"
          f" ({c.consent_source})")
    return 0


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
    print(f"{c.customer_id}: favourites {', '.join(service.get(c.customer_id).favourites) or '-'}")
    return 0


def run_erase(args: argparse.Namespace) -> int:
    from headoffice import privacy
    from headoffice.customers import service

    open_db(args)
    try:
        cid = privacy.erase(args.ref)
    except service.CustomerError as exc:
        print(f"kassa customers erase: {exc}", file=sys.stderr)
        return 1
    print(f"erased {cid}: name, e-mail, card, favourites, history and offers deleted; the "
          "journal keeps only the pseudonym. Run `kassa customers sync` to remove the card "
          "from the tills.")
    return 0


def run_sync(args: argparse.Namespace) -> int:
    import time

    from headoffice.broker import BrokerSettings, publisher
    from headoffice.journal_feed import apply_journal
    from headoffice.notify.backinstock import send_back_in_stock
    from headoffice.offers.publish import client_id, next_messages, publish

    open_db(args)
    mailer = mailer_from(args)
    while True:
        fed = apply_journal()
        mails = send_back_in_stock(mailer, args.shop_name)
        published = 0
        if not args.no_publish:
            broker = BrokerSettings(args.mqtt_host, args.mqtt_port, ca_file=args.ca,
                                    cert_file=args.cert, key_file=args.key)
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
        if not args.loop:
            return 0
        time.sleep(args.loop)
