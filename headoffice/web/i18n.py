"""The dashboard's language: Dutch, with English as a switch (the `kassa_lang` cookie).

Templates write their Dutch text through `_()`; the Dutch text is the message id and `EN`
holds its English form (a text missing there stays Dutch). Dates are `02-12-2026`, times
local (Europe/Amsterdam), whatever zone the stored ISO time has.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from headoffice.alerts.texts import LOCAL, local_time

LANGUAGES = ("nl", "en")
DEFAULT = "nl"
COOKIE = "kassa_lang"

DEVICE_STATES = {
    "ready": "gereed", "printing": "bezig met printen", "paper_out": "papier op",
    "cover_open": "klep open", "offline": "niet bereikbaar", "error": "storing",
    "open": "open", "closed": "dicht", "open_too_long": "te lang open",
    "connected": "verbonden", "disconnected": "losgekoppeld", "unknown": "onbekend",
}

EN: dict[str, str] = {
    # access: roles, users, sessions, audit trail (headoffice/web/auth_pages.py)
    "eigenaar": "owner", "bedrijfsleider": "shop manager", "boekhouder": "accountant",
    "beheerder": "fleet admin", "geen toegang": "no access", "Gebruikers": "Users",
    "Audittrail": "Audit trail", "Rol": "Role", "Tweede factor": "Second factor",
    "Sinds": "Since", "Status": "Status",
    "geblokkeerd": "locked", "Deblokkeren": "Unlock", "Wijzigen": "Change",
    "Verwijderen": "Remove", "winkels": "shops",
    "Nieuwe gebruikers en wachtwoorden": "New users and passwords",
    "De keten is verbroken bij regel": "The chain is broken at row",
    "Vanaf datum": "From date", "Exporteren (CSV)": "Export (CSV)", "Geen regels": "No rows",
    "Nog geen wijzigingen van het assortiment": "No changes of the assortment yet",
    "assortiment gewijzigd": "assortment changed", "assortiment verstuurd": "assortment sent",
    "klant gewijzigd": "customer changed", "klantgegevens opgevraagd": "customer data exported",
    "klant gewist": "customer erased", "audittrail geëxporteerd": "audit trail exported",
    "voorraad gewijzigd": "stock changed", "terminal gewijzigd": "terminal changed",
    "wijziging": "change", "wachtwoord gewijzigd": "password changed",
    "release uitgerold": "release rolled out", "instellingen verstuurd": "settings sent",
    "Keten gecontroleerd": "Chain verified", "regels": "rows", "Wie": "Who", "Details": "Details",
    "Handeling": "Action", "Assortiment en prijzen": "Assortment and prices",
    "Alle wijzigingen van het assortiment": "Every change of the assortment",
    "Mijn sessies": "My sessions", "Sessie": "Session", "Begonnen": "Started",
    "Laatst actief": "Last active", "Browser": "Browser", "Overal uitloggen": "Log out everywhere",
    "Code (tweede factor, indien ingesteld)": "Code (second factor, if set up)",
    "Dit account is geblokkeerd; vraag de eigenaar het te deblokkeren":
        "This account is locked; ask the owner to unlock it",
    "Te veel mislukte pogingen; probeer het later opnieuw":
        "Too many failed attempts; try again later",
    "U kunt uzelf niet verwijderen": "You cannot remove yourself", "Tonen": "Show",
    "Niets": "Nothing",
    "ingelogd": "logged in", "inloggen mislukt": "login failed", "inloggen geweigerd":
        "login refused", "uitgelogd": "logged out", "overal uitgelogd": "logged out everywhere",
    "melding gezien": "alert seen", "gebruiker toegevoegd": "user added",
    "rol gewijzigd": "role changed", "gebruiker verwijderd": "user removed",
    "gebruiker gedeblokkeerd": "user unlocked", "tweede factor gewijzigd": "second factor changed",
    # software updates (terminals page)
    "Release": "Release", "Ring": "Ring", "Uitrol": "Rollout", "Bijgewerkt": "Updated",
    "Bezig": "Under way", "Versie": "Version", "actief": "active", "gepauzeerd": "paused",
    "gestopt": "halted", "teruggedraaid": "rolled back", "bijgewerkt": "updated",
    "geweigerd": "refused", "afgebroken": "stopped", "downloaden": "downloading",
    "installeren": "installing", "wisselen": "switching", "terugdraaien": "rolling back",
    "klaar": "done",
    # navigation and page titles
    "Kassa hoofdkantoor": "Kassa head office", "Vandaag": "Today", "Perioden": "Periods",
    "Terminals": "Terminals", "Z-rapporten": "Z reports", "Meldingen": "Alerts",
    "Voorraad & klanten": "Stock & customers", "Btw-aangifte": "VAT return",
    "Belasting": "Tax", "uitloggen": "log out", "Menu": "Menu",
    "Belastingoverzichten": "Tax reports", "Voorraad en klanten": "Stock and customers",
    # login and errors
    "Gebruiker": "User", "Wachtwoord": "Password", "Inloggen": "Log in",
    "Onbekende gebruiker of verkeerd wachtwoord": "Unknown user or wrong password",
    "Ongeldige datum: gebruik JJJJ-MM-DD": "Invalid date: use YYYY-MM-DD",
    "Ongeldige periode": "Invalid period", "niet ingelogd": "login required",
    "Fout": "Error", "Terug naar vandaag": "Back to today",
    "Deze melding bestaat niet": "This alert does not exist",
    "alle winkels": "all shops", "winkel": "shop", "CSV met manifest (zip)": "CSV with manifest (zip)",
    "JSON lines met manifest (zip)": "JSON lines with manifest (zip)",
    "Onbekend soort export": "Unknown kind of export",
    # dashboard
    "Omzet vandaag": "Turnover today", "omzet (incl. btw)": "turnover (incl. VAT)",
    "bonnen": "tickets", "gemiddelde bon": "average ticket",
    "retouren / annuleringen betaald / open": "refunds / voids of paid / open tickets",
    "Per uur": "Per hour",
    "Topproducten": "Top products", "Promoties": "Promotions", "Promotie": "Promotion",
    "Stuks": "Pieces", "Verkocht": "Sold", "Kosten": "Cost", "Product": "Product", "Aantal": "Quantity",
    "Omzet": "Turnover", "Per winkel en terminal": "Per shop and terminal", "Winkel": "Shop",
    "Terminal": "Terminal", "Bonnen": "Tickets", "Gem. bon": "Avg. ticket",
    "Geen meldingen.": "No alerts.",
    # periods
    "Periode": "Period", "t/m": "to", "dag": "day", "week": "week", "maand": "month",
    "jaar": "year", "winkel (alle)": "shop (all)", "Toon": "Show", "vorige": "previous",
    "verschil": "change", "Gemiddelde bon": "Average ticket", "Artikelen": "Items",
    "Retouren": "Refunds", "Annuleringen betaalde bonnen": "Voids of paid tickets",
    "Annuleringen open bonnen": "Voids of open tickets", "Contant / pin / bon": "Cash / card / voucher",
    "Per winkel": "Per shop", "vorige periode": "previous period", "nieuw": "new",
    "n.v.t.": "n/a",
    # terminals
    "Verbinding": "Link", "Achterstand": "Backlog", "Laatst gezien": "Last seen",
    "Ontvangen t/m": "Received up to", "Printer": "Printer", "Lade": "Drawer",
    "Scanner": "Scanner", "Probleem": "Problem", "verbonden": "online",
    "niet verbonden": "offline", "sinds": "since",
    "Sleutel (SHA-256-vingerafdruk)": "Key (SHA-256 fingerprint)", "sleutel": "key",
    "niet ingeschreven": "not enrolled",
    "Geweigerd door kantoor": "Refused by head office", "laatste reden": "last reason",
    "alleen geteld": "only counted",
    "Geweigerd van afzenders zonder terminalstatus": "Refused from senders without a link state",
    "Kantoorberichten geweigerd/genegeerd": "Head-office messages refused/ignored by the till",
    "Versies": "Versions", "versies": "versions", "achter": "behind", "bij": "up to date",
    "herstart nodig": "restart needed", "assortiment": "catalogue", "aanbiedingen": "offers",
    "instellingen": "config", "acties": "promotions",
    "gereed": "ready", "bezig met printen": "printing", "papier op": "out of paper",
    "klep open": "cover open", "niet bereikbaar": "offline", "storing": "error",
    "open": "open", "dicht": "closed", "te lang open": "open too long",
    "losgekoppeld": "disconnected", "onbekend": "unknown",
    # alerts
    "Tijd": "Time", "Soort": "Kind", "Aantal keer": "Count", "Winkel/terminal": "Shop/terminal",
    "Melding": "Alert",
    "Verzonden": "Delivery", "Gezien": "Seen", "gezien door": "seen by", "om": "at",
    "Tijd van de verkoop (of van de oorzaak), lokale tijd.":
        "Time of the sale (or of the cause), local time.",
    # shop
    "Bij te bestellen": "To reorder", "Weer-op-voorraad-mails verzonden": "Back-in-stock mails sent",
    "Mails mislukt": "Mails failed", "Klanten met toestemming": "Customers with consent",
    "Bestellijst": "Reorder list", "Locatie": "Location", "Artikel": "Item", "Naam": "Name",
    "Voorraad": "Stock", "Minimum": "Minimum", "Bestellen": "Order",
    "Niets onder het minimum.": "Nothing below the minimum.",
    "Meer verkocht dan op voorraad": "Sold more than in stock", "Stand na": "Level after",
    "Bron": "Source", "Weer op voorraad": "Back in stock", "Mails verzonden": "Mails sent",
    "Mislukt": "Failed", "Nog niets weer op voorraad.": "Nothing back in stock yet.",
    "Aanbiedingen": "Offers", "Actie": "Campaign", "Geldig": "Valid", "Korting": "Discount",
    "Gemaild": "Mailed", "Ingewisseld": "Redeemed", "Budget": "Budget",
    "Vastgelegd": "Committed", "Geen acties.": "No campaigns.",
    "Vaker ingewisseld dan toegestaan": "Redeemed more often than allowed",
    "Aanbieding": "Offer", "Toegestaan": "Allowed", "Korting gegeven": "Discount given",
    "Webshop": "Webshop", "Laatste synchronisatie": "Last sync",
    "Bestellingen afgeboekt": "Orders taken", "Geparkeerd": "Parked",
    "Fouten (24 uur)": "Errors (24 hours)", "Webhooks geweigerd": "Webhooks refused",
    "nog niet": "not yet", "Geen webshop gekoppeld.": "No webshop linked.",
    "Geparkeerde bestellingen": "Parked orders", "Bestelling": "Order", "Reden": "Reason",
    # exports page
    "Btw-aangifte (rubrieken 1a, 1b, 1c, 1e)": "VAT return (boxes 1a, 1b, 1c, 1e)",
    "Download btw-overzicht (CSV)": "Download VAT report (CSV)",
    "Bekijk de btw-aangifte op het scherm": "Show the VAT return on screen",
    "Download auditfile (XAF)": "Download auditfile (XAF)",
    "Volledig journaal": "Full journal",
    "Controle door de accountant, offline:": "Offline check by the accountant:",
    # VAT return page
    "btw-aangifte": "VAT return", "kies een periode": "choose a period",
    "Download (CSV voor Excel)": "Download (CSV for Excel)",
    "Rubriek 1: prestaties binnenland": "Box 1: supplies within the Netherlands",
    "Rubriek": "Box", "Omschrijving": "Description", "Omzet excl. btw": "Turnover excl. VAT",
    "Btw": "VAT", "Aangifte: omzet": "Return: turnover", "Aangifte: btw": "Return: VAT",
    "Leveringen/diensten belast met hoog tarief": "Supplies/services at the standard rate",
    "Leveringen/diensten belast met laag tarief": "Supplies/services at the reduced rate",
    "Leveringen/diensten belast met overige tarieven, behalve 0%":
        "Supplies/services at other rates, except 0%",
    "Leveringen/diensten belast met 0% of niet bij u belast":
        "Supplies/services at 0% or not taxed with you",
    "waarvan tarief": "of which at rate", "Verschuldigde omzetbelasting": "VAT payable",
    "Niet in de aangifte": "Not in the return",
    "Vrijgestelde omzet (art. 11 Wet OB)": "Exempt turnover (art. 11 Wet OB)",
    "Vrijgestelde leveringen horen in geen enkele rubriek van de aangifte; dit bedrag is voor de "
    "accountant (bijvoorbeeld voor de pro-rataberekening van de voorbelasting). Bedragen in de "
    "kolommen \"Aangifte\" zijn afgerond op hele euro's in uw voordeel, zoals de aangifte vraagt.":
        "Exempt supplies belong in no box of the return; this amount is for the accountant (for "
        "example for the pro rata deduction of input VAT). Amounts in the \"Return\" columns are "
        "rounded to whole euros in your favour, as the return asks.",
    # Z pages
    "Z-nr": "Z no", "Datum": "Date", "Kasverschil": "Cash variance",
    "bekijken en controleren": "view and check",
    "Nog geen Z-rapporten ontvangen.": "No Z reports received yet.",
    "Datum en tijd in Nederlandse tijd (Europe/Amsterdam). Omzet en kasverschil zoals de terminal "
    "ze op de Z heeft gezet; open een Z om hem naast de herberekening van het hoofdkantoor te zien.":
        "Date and time in Dutch time (Europe/Amsterdam). Turnover and cash variance as the terminal "
        "put them on the Z; open a Z to see it beside head office's rebuild.",
    "Z-rapport": "Z report", "Z-rapport nr": "Z report no", "terminal": "terminal",
    "Gemaakt op {time} (journaalregel {seq}). Het hoofdkantoor heeft deze Z opnieuw berekend uit "
    "journaalregels {first} t/m {last}, met dezelfde rekenregels als de kassa:":
        "Made on {time} (journal entry {seq}). Head office rebuilt this Z from journal entries "
        "{first} to {last}, with the same rules as the till:",
    "klopt, elk bedrag is gelijk aan de Z van de terminal":
        "correct, every amount equals the terminal's Z",
    "{n} afwijkende regel(s)": "{n} differing row(s)", "journaal onvolledig": "journal incomplete",
    "Journaalregels {first} t/m {last} zijn nog niet bij het hoofdkantoor binnen.":
        "Journal entries {first} to {last} have not reached head office yet.",
    "Z van de terminal": "Terminal's Z", "Herberekend door hoofdkantoor": "Rebuilt by head office",
    "wijkt af": "differs", "alle Z-rapporten": "all Z reports",
    # Z rows (headoffice/exports/zreports.py): sections, figures, and the parts of compound labels
    "Totalen": "Totals", "Bonnen en handelingen": "Tickets and actions",
    "Btw per tarief": "VAT per rate", "Betaalwijzen": "Tenders", "Kasgeld": "Cash",
    "Overig": "Other", "Z-nummer": "Z number", "Eerste journaalregel": "First journal entry",
    "Laatste journaalregel": "Last journal entry", "Aantal bonnen": "Tickets",
    "Omzet (incl. btw)": "Turnover (incl. VAT)", "Verkopen": "Sales",
    "Annuleringen": "Voids", "aantal": "count", "bedrag": "amount", "Kortingen": "Discounts",
    "Prijswijzigingen": "Price overrides", "Lade open zonder verkoop": "No-sale drawer openings",
    "Kopiebonnen": "Receipt copies", "Wisselgeld begin": "Opening float", "Geld in": "Cash in",
    "Geld uit": "Cash out", "Contante betalingen": "Cash payments",
    "Verwacht in lade": "Expected in drawer", "Geteld": "Counted",
    "Kasverschil (geteld - verwacht)": "Cash variance (counted - expected)",
    "Telling per coupure": "Count per denomination", "Afronding contant": "Cash rounding",
    "Trainingsboekingen": "Training entries", "X-rapporten": "X reports",
    "Eeuwigdurend totaal verkopen": "Perpetual total of sales",
    "Eeuwigdurend totaal retouren": "Perpetual total of returns",
    "Goedgekeurd door": "Approved by", "Contant": "Cash", "Pin": "Card", "Waardebon": "Voucher",
    "omzet incl. btw": "turnover incl. VAT", "btw": "VAT", "omzet excl. btw": "turnover excl. VAT",
    # assortment (product master)
    "Assortiment": "Assortment", "Producten": "Products", "Nieuw product": "New product",
    "Acties": "Promotions", "Wijzigingen": "Changes", "Zoek": "Search", "van": "of",
    "producten": "products", "prijzen van winkel": "prices of shop",
    "naam, categorie, EAN of PLU": "name, category, EAN or PLU",
    "Schapetiketten van de prijswijzigingen op": "Shelf labels of the price changes on",
    "PDF": "PDF", "Code": "Code", "Categorie": "Category", "Prijs nu": "Price now",
    "Gepland": "Planned", "Actief": "Active", "geen prijs": "no price", "vanaf": "from",
    "ja": "yes", "nee": "no", "Geen producten gevonden.": "No products found.",
    "Gegevens": "Details", "EAN (hoofdcode)": "EAN (main code)",
    "Meer EAN-codes": "More EAN codes", "Eenheid": "Unit", "per stuk": "per piece",
    "per kg": "per kg", "Leeftijdsgrens": "Age limit",
    "18 voor alcohol en tabak": "18 for alcohol and tobacco", "Statiegeld": "Deposit",
    "geen": "none", "in elke winkel, tenzij de winkel anders zegt":
        "in every shop, unless the shop says otherwise",
    "Opslaan": "Save", "Prijs": "Price", "Nu": "Now", "Plannen": "Schedule",
    "Leeg: meteen. Tijd is Nederlandse tijd; kassa’s die dan offline zijn wisselen op hun eigen klok.":
        "Empty: at once. Dutch time; tills that are offline then switch by their own clock.",
    "Vanaf": "From", "Schrappen": "Cancel", "Inkoopprijs": "Cost price",
    "meteen": "at once", "verkopen": "sell", "niet verkopen": "do not sell",
    "Door": "By", "Wat": "What", "Was": "Was", "Werd": "Became",
    "Nog geen wijzigingen.": "No changes yet.",
    "Wijzigingen in het assortiment": "Changes to the assortment",
    "code of actie-id": "code or promotion id", "alles": "everything",
    "Voorwaarden": "Terms", "Geldt voor": "Applies to",
    "Wanneer": "When", "Winkels": "Shops", "categorie": "category", "dagen": "days",
    "alle": "all", "uitzetten": "switch off", "aanzetten": "switch on",
    "Nog geen acties.": "No promotions yet.", "Actie maken of wijzigen": "Create or change a promotion",
    "Id": "Id", "Naam op de bon": "Name on the receipt",
    "N voor € X (mix & match)": "N for € X (mix & match)", "N kopen, M gratis": "Buy N, get M free",
    "elke N-de met % korting (2e halve prijs)": "every N-th at % off (2nd at half price)",
    "% korting": "% off", "kopen": "buy", "gratis": "free",
    "Producten (EAN/PLU, komma’s)": "Products (EAN/PLU, commas)", "Categorieën": "Categories",
    "Van / t/m (datum)": "From / until (date)", "Uren": "Hours", "Dagen": "Days",
    "Winkels (leeg: alle)": "Shops (empty: all)", "ma": "Mon", "di": "Tue", "wo": "Wed",
    "do": "Thu", "vr": "Fri", "za": "Sat", "zo": "Sun",
    "hoog (21%)": "high (21%)", "laag (9%)": "low (9%)", "nul (0%)": "zero (0%)",
    "vrijgesteld": "exempt", "opgeslagen": "saved", "prijs gepland": "price scheduled",
    "prijs geschrapt": "price cancelled", "inkoopprijs opgeslagen": "cost price saved",
    "assortiment van de winkel opgeslagen": "the shop's range saved",
    "Onbekend product": "Unknown product", "Onbekende actie": "Unknown action",
    "Geen prijswijzigingen op deze dag": "No price changes on this day",
    "Inhoud": "Content", "voor de prijs per kg of liter op het schapetiket":
        "for the price per kg or litre on the shelf label",
    # customers (headoffice/web/customer_pages.py)
    "Klanten": "Customers", "Klanten: profielen, toestemming en inzage":
        "Customers: profiles, consent and access", "naam, e-mail of kaart": "name, e-mail or card",
    "E-mail": "E-mail", "Kaart": "Card", "kaart": "card", "Taal": "Language",
    "Toestemming": "Consent", "Via": "Via", "Vaste winkel": "Home shop",
    "Favorieten": "Favourites", "Toestemming voor e-mail": "Consent to e-mail",
    "Toestemming gegeven": "Consent given", "Toestemming ingetrokken": "Consent withdrawn",
    "Inzage (AVG)": "Access (GDPR)", "Gegevens als PDF": "Data as PDF",
    "Gegevens als JSON": "Data as JSON", "Mogelijke dubbele klanten": "Possible duplicates",
    "Dubbele klant samenvoegen": "Merge a duplicate customer",
    "klantnummer, kaart of e-mail van de dubbele": "id, card or e-mail of the duplicate",
    "Samenvoegen in deze klant": "Merge into this customer",
    "toestemming vastgelegd": "consent recorded", "samengevoegd": "merged",
    "Onbekende klant": "Unknown customer", "Onbekend formaat": "Unknown format",
    # the owner's reports (headoffice/web/report_pages.py)
    "Rapporten": "Reports", "Verkoop": "Sales", "Marge": "Margin", "Marge %": "Margin %",
    "Kortingen en acties": "Discounts and promotions", "Excel": "Excel",
    # the owner's daily summary mail (headoffice/web/summary_pages.py)
    "Dagoverzicht per mail": "Daily summary by mail", "E-mailadres": "E-mail address",
    "Aan": "On", "Opgeslagen": "Saved",
    "Na de laatste Z van de dag (of uiterlijk om de afsluittijd): omzet per winkel naast "
    "dezelfde weekdag een jaar eerder, de meldingen van de dag en de kasverschillen.":
        "After the last Z of the day (or at the cut-off time at the latest): turnover per shop "
        "beside the same weekday a year earlier, the day's alerts and the cash variances.",
    "(geen categorie)": "(no category)", "Bedrag": "Amount", "Betaald met": "Paid with",
    "Betaalwijze": "Payment method", "Kassier": "Cashier", "Kostprijs": "Cost price",
    "Alle verkochte producten hebben een kostprijs.": "Every product sold has a cost price.",
    "Kosten: wat de korting de klant gaf (retouren geven een deel terug); verkocht: wat de "
    "regels opbrachten na alle kortingen.": "Cost: what the reduction gave the customer "
    "(refunds give part of it back); sold: what the lines brought in after every reduction.",
    "Kostprijs zoals die gold op de dag van verkoop; omzet zonder bekende kostprijs telt niet "
    "mee.": "Cost price as it was on the day of sale; sales without a known cost price are "
    "left out.",
    "Nr.": "No.", "Omzet excl.": "Turnover excl.", "Omzet incl.": "Turnover incl.",
    "Omzet incl. btw": "Turnover incl. VAT", "Per betaalwijze": "By payment method",
    "Per btw-tarief": "By VAT rate", "Per categorie": "By category", "Per kassier": "By cashier",
    "Per product": "By product", "Per soort": "By kind", "Per terminal": "By terminal",
    "Persoonlijke aanbiedingen": "Personal offers", "Tarief": "Rate", "Totaal": "Total",
    "Uur x weekdag": "Hour x weekday", "Verkocht zonder kostprijs": "Sold without a cost price",
    "actie": "promotion", "annulering": "void", "bonkorting": "ticket discount",
    "contant": "cash", "pin": "card", "waardebon": "voucher", "hoog": "high", "laag": "low",
    "nul": "zero", "deze maand": "this month", "deze week": "this week", "dit jaar": "this year",
    "dit kwartaal": "this quarter", "eigen periode": "custom range", "gisteren": "yesterday",
    "vandaag": "today", "vorig jaar": "last year", "vorig kwartaal": "last quarter",
    "vorige maand": "last month", "vorige week": "last week", "jaar eerder": "a year earlier",
    "handmatige korting": "manual discount", "persoonlijke aanbieding": "personal offer",
    "prijswijziging": "price override", "retour": "refund", "verkoop": "sale",
    "samen": "together", "terug naar het rapport": "back to the report",
    "t.o.v. vorige": "vs previous", "t.o.v. jaar eerder": "vs a year earlier",
    "kassier": "cashier", "betaalwijze": "payment method", "btw-tarief": "VAT rate",
    "weekdag:uur": "weekday:hour", "Geen persoonlijke aanbiedingen gebruikt.":
    "No personal offers used.",
    # finding a receipt and the cash page (headoffice/web/receipt_pages.py, cash_pages.py)
    "Bon zoeken": "Find a receipt",
    "Bonnummer of QR-code": "Receipt number or QR code",
    "tot": "until",
    "Kaartreferentie": "Card reference",
    "code of naam": "code or name",
    "Klantenkaart": "Customer card",
    "bonnen gevonden": "receipts found",
    "de nieuwste": "the newest",
    "Bon": "Receipt",
    "training": "training",
    "QR-code past niet bij het journaal": "QR code does not match the journal",
    "Geen bon gevonden.": "No receipt found.",
    "Scan de QR-code van een bon met de camera van een telefoon en plak de tekst bij "
    "bonnummer, of vul een of meer velden in.":
        "Scan a receipt's QR code with a phone camera and paste the text as the receipt "
        "number, or fill in one or more fields.",
    "bon zoeken": "find a receipt",
    "bij bon": "for receipt",
    "Zoals geprint": "As printed",
    "kopie": "copy",
    "Breedte": "Width",
    "origineel": "original",
    "als kopie": "as a copy",
    "Opgebouwd uit de journaalregel met de bonopmaak van de kassa; de kop (naam, adres, "
    "btw-nummer) komt uit de bedrijfsgegevens van het hoofdkantoor.":
        "Built from the journal entry with the till's receipt layout; the header (name, "
        "address, VAT number) comes from head office's company settings.",
    "Handtekening": "Signature",
    "Handtekening en keten kloppen": "Signature and chain are sound",
    "Handtekening of keten klopt niet": "Signature or chain does not hold",
    "Hash": "Hash",
    "Sleutel van de terminal": "Terminal key",
    "ingetrokken": "revoked",
    "Retouren en annuleringen": "Refunds and voids",
    "Journaalregel": "Journal entry",
    "Tekort": "Short",
    "Over": "Over",
    "Kasverschil per dag": "Cash variance per day",
    "Kasverschil per week": "Cash variance per week",
    "Kasverschil per maand": "Cash variance per month",
    "volgende": "next", "pagina": "page",
    "nieuwste eerst": "newest first", "Kasbewegingen": "Cash movements",
    "Pagina's Z-rapporten": "Pages of Z reports",
    "Pagina's kasbewegingen": "Pages of cash movements",
    "Kasverschil per kassier": "Cash variance per cashier",
    "Per Z": "Per Z",
    "Geld in/uit": "Cash in/out",
    "Contant ontvangen": "Cash taken",
    "Verwacht": "Expected",
    "Verschil": "Variance",
    "Geen Z-rapporten in deze periode.": "No Z reports in this period.",
    "Wisselgeld en geld in/uit": "Float and cash in/out",
    "Geen kasbewegingen in deze periode.": "No cash movements in this period.",
    "wisselgeld begin": "opening float",
    "geld in": "cash in",
    "geld uit": "cash out",
    "Ongeldige zoekvraag": "Invalid search",
    "Ongeldige bonbreedte": "Invalid receipt width",
    "Deze bon bestaat niet": "This receipt does not exist",
}

# "Btw hoog 21%", "Btw 0%", "Btw vrijgesteld" (headoffice/exports/zreports.py vat_label)
_VAT_LABEL = re.compile(r"Btw(?: (hoog|laag|nul))? ([\d,]+)%|Btw vrijgesteld")
_VAT_WORDS = {"hoog": "high ", "laag": "low ", "nul": "zero ", None: ""}


def _compound(text: str, table: dict[str, str]) -> str | None:
    """A label built from parts ("Verkopen: aantal", "Btw hoog 21%: btw"), translated part by
    part; None when a part is unknown."""
    parts = []
    for part in text.split(": "):
        vat = _VAT_LABEL.fullmatch(part)
        if vat:
            parts.append("VAT exempt" if vat.group(2) is None
                         else f"VAT {_VAT_WORDS[vat.group(1)]}{vat.group(2).replace(',', '.')}%")
        elif part in table:
            parts.append(table[part])
        else:
            return None
    return ": ".join(parts)


def language(cookies: dict[str, str]) -> str:
    value = cookies.get(COOKIE, DEFAULT)
    return value if value in LANGUAGES else DEFAULT


def translator(lang: str) -> Callable[..., str]:
    """`_('Dutch text', name=value)`: the text in `lang`, with `{name}` filled in."""
    table = EN if lang == "en" else {}

    def _(text: str, **params: Any) -> str:
        found = table.get(text) or (table and _compound(text, table)) or text
        return found.format(**params) if params else found
    return _


UPDATE_WORDS = {
    "active": "actief", "paused": "gepauzeerd", "halted": "gestopt",
    "rolled_back": "teruggedraaid", "committed": "bijgewerkt", "refused": "geweigerd",
    "stopped": "afgebroken", "download": "downloaden", "install": "installeren",
    "switch": "wisselen", "rollback": "terugdraaien", "done": "klaar",
}


def update_word(word: str) -> str:
    """The Dutch word for a rollout state or an update step (unknown words as they are)."""
    return UPDATE_WORDS.get(word, word)


def device_state(state: str) -> str:
    """The Dutch name of a device state a till reports (unknown names are shown as they are)."""
    return DEVICE_STATES.get(state, state)


def date_nl(value: str | dt.date | None) -> str:
    """`02-12-2026` from a date or an ISO date or time (times in local time)."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        return local_time(value)[:10]
    if isinstance(value, dt.date):
        return value.strftime("%d-%m-%Y")
    text = str(value)
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text).strftime("%d-%m-%Y")
        except ValueError:
            return text
    if len(text) == 7 and text[4] == "-":
        return f"{text[5:]}-{text[:4]}"
    return local_time(text)[:10]


def chart_label(label: str) -> str:
    """An axis label of the period chart: `02-12` for a day, `12-2026` for a month."""
    if len(label) == 10:
        return f"{label[8:10]}-{label[5:7]}"
    if len(label) == 7:
        return f"{label[5:]}-{label[:4]}"
    return label


def now_local() -> dt.datetime:
    return dt.datetime.now(LOCAL)
