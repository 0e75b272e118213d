"""`kassa offers ...`: personal offer campaigns, offer mails, the over-redemption report."""

from __future__ import annotations

import argparse
import sys

from cli.audited import audited
from cli.customers import db_arg, mail_args, mailer_from, open_db


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("offers", help="personal offers from purchase history")
    db_arg(parser)
    osub = parser.add_subparsers(dest="offers_command", required=True)
    camp = osub.add_parser("campaign", help="compute a campaign's offers within its budget")
    camp.add_argument("name")
    camp.add_argument("--percent", type=int, required=True)
    camp.add_argument("--budget", required=True, help="euros, e.g. 250 or 250,00")
    camp.add_argument("--days", type=int, default=14, help="valid from today for N days")
    camp.add_argument("--uses", type=int, default=1, help="redemptions per offer")
    camp.add_argument("--lookback", type=int, default=90, help="days of history")
    camp.set_defaults(handler=run_campaign)
    mail = osub.add_parser("mail", help="mail new offers to consenting customers")
    mail_args(mail)
    mail.set_defaults(handler=run_mail)
    report = osub.add_parser("report", help="offers redeemed more often than allowed")
    report.set_defaults(handler=run_report)


@audited("change", "name", "percent", "budget", "days", "uses")
def run_campaign(args: argparse.Namespace) -> int:
    import datetime as dt

    from contract.money import format_money, parse_money
    from headoffice.offers.compute import compute, create_campaign

    open_db(args)
    today = dt.date.today()
    try:
        campaign = create_campaign(args.name, today, today + dt.timedelta(days=args.days - 1),
                                   args.percent, parse_money(args.budget), args.uses)
    except ValueError as exc:
        print(f"kassa offers campaign: {exc}", file=sys.stderr)
        return 1
    result = compute(campaign, args.lookback)
    print(f"campaign {campaign}: {result.issued} offer(s), worst-case cost "
          f"{format_money(result.committed_cents)} of {format_money(parse_money(args.budget))}"
          f"{f', {result.skipped_budget} left out for the budget' if result.skipped_budget else ''}")
    return 0


def run_mail(args: argparse.Namespace) -> int:
    from headoffice.offers.publish import mail_offers

    open_db(args)
    sent, errors = mail_offers(mailer_from(args), args.shop_name)
    for error in errors:
        print(f"  failed: {error}", file=sys.stderr)
    print(f"{sent} offer mail(s) sent, {len(errors)} failed")
    return 1 if errors else 0


def run_report(args: argparse.Namespace) -> int:
    from contract.money import format_money
    from headoffice.offers.redeem import over_redemptions

    open_db(args)
    rows = over_redemptions()
    for r in rows:
        tills = ", ".join(f"{t}: {n}" for t, n in sorted(r.by_terminal.items()))
        print(f"OVER-REDEEMED {r.offer_id} (customer {r.customer_id}): {r.redeemed} of "
              f"{r.allowed} allowed ({tills}); discount given {format_money(r.discount_given)}")
    print(f"{len(rows)} offer(s) over-redeemed")
    return 0
