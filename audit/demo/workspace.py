# ruff: noqa: E501  (vocabulary, message templates and YAML text read best unwrapped)
"""The demo's pipeline config (demo.yaml): every source with its profile, region and timezone.

Written as text with comments, because it is also the example a user copies for their own
exports. `prefix` lets the same text point at the workspace from elsewhere (configs/demo.yaml
uses '../crm-audit-demo/').
"""

from __future__ import annotations

AS_OF = "2026-10-31"
PERIOD = "2026-Q3"

HUBSPOT_CONTACTS = "hubspot-crm-exports-all-contacts-2026-10-30.csv"
HUBSPOT_DEALS = "hubspot-crm-exports-all-deals-2026-10-30.csv"
WORKBOOK = "顧客管理_2026.xlsx"
WORKBOOK_SHEETS = ("顧客一覧", "Expo leads")
KOREAN_CSV = "고객명단_2026.csv"
STRIPE_CUSTOMERS = "unified_customers.csv"
STRIPE_SUBSCRIPTIONS = "subscriptions.csv"
MAILCHIMP_DIR = "members_export_8a3f2c1d9e"
MAILCHIMP_CLEANED = f"{MAILCHIMP_DIR}/cleaned_members_export_8a3f2c1d9e.csv"
MAILCHIMP_SUBSCRIBED = f"{MAILCHIMP_DIR}/subscribed_members_export_8a3f2c1d9e.csv"
MAILCHIMP_UNSUBSCRIBED = f"{MAILCHIMP_DIR}/unsubscribed_members_export_8a3f2c1d9e.csv"
MBOX = "Takeout/Mail/All mail Including Spam and Trash.mbox"
ZENDESK = "zendesk-tickets-2026-10-30.csv"
TYPEFORM = "typeform-nps-responses.csv"
SUPPORT_SURVEY = "support-survey-csat-ces.csv"
ORDERS = "orders.csv"
DEAL_STAGES = "deal-stage-history.csv"
SPEND = "spend.csv"
QUOTAS = "quotas.csv"

NPS_QUESTION = "How likely are you to recommend Aster Global to a friend or colleague?"


def config_text(prefix: str = "", output_dir: str = "reports") -> str:
    d = f"{prefix}data/"
    where = "crm-audit-demo/demo.yaml" if not prefix else "configs/demo.yaml"
    return f"""# The crm-audit demo workspace config, written by `crm-audit demo` (configs/demo.yaml is the
# same file pointing at ./crm-audit-demo from the repository). After `crm-audit demo`, rerun:
#   crm-audit run {where}
# Paths are relative to this file. The ground truth for measuring detection is in {prefix}truth/.
version: 1
as_of: {AS_OF}              # fixed, so that every run of the demo gives the same output

sources:
  - name: hubspot
    path: "{d}{HUBSPOT_CONTACTS}"
    profile: hubspot.contacts
    phone_region: US
    timezone: America/New_York
    priority: 30
  - name: hubspot_deals
    path: "{d}{HUBSPOT_DEALS}"
    profile: hubspot.deals
    timezone: America/New_York
    columns: {{"Associated Contact IDs": contact_id, "Original Source": lead_source}}
  - name: tokyo_customers      # the Tokyo office's workbook: title row above the header
    path: "{d}{WORKBOOK}"
    sheet: "{WORKBOOK_SHEETS[0]}"
    entity: contacts
    phone_region: JP
    timezone: Asia/Tokyo
    priority: 20
    columns: {{氏名: full_name, 会社名: company, 役職: job_title, メールアドレス: email, 電話番号: phone, 郵便番号: postal_code, 住所: address, 担当者: owner, 登録日: created_at, 最終接触日: last_activity_at}}
  - name: expo_leads           # second sheet of the same workbook
    path: "{d}{WORKBOOK}"
    sheet: "{WORKBOOK_SHEETS[1]}"
    entity: contacts
    phone_region: JP
    timezone: Asia/Tokyo
    priority: 5
    columns: {{Name: full_name, Company: company, Email: email, Phone: phone, Country: country, "Scanned at": created_at}}
  - name: seoul_contacts       # saved by Korean Excel as "CSV (쉼표로 분리)": cp949
    path: "{d}{KOREAN_CSV}"
    entity: contacts
    phone_region: KR
    timezone: Asia/Seoul
    priority: 20
    columns: {{이름: full_name, 이메일: email, 전화번호: phone, 회사: company, 직함: job_title, 주소: address, 우편번호: postal_code, 담당자: owner, 등록일: created_at}}
  - name: stripe_customers
    path: "{d}{STRIPE_CUSTOMERS}"
    profile: stripe.customers
    phone_region: US
    timezone: UTC
    priority: 40
    columns: {{"company (metadata)": company}}
  - name: stripe_subscriptions
    path: "{d}{STRIPE_SUBSCRIPTIONS}"
    profile: stripe.subscriptions
    timezone: UTC
  - name: mailchimp_subscribed  # the audience export zip holds one CSV per status
    path: "{d}{MAILCHIMP_SUBSCRIBED}"
    profile: mailchimp.subscribed
    phone_region: US
    timezone: UTC
    priority: 5
  - name: mailchimp_unsubscribed
    path: "{d}{MAILCHIMP_UNSUBSCRIBED}"
    profile: mailchimp.unsubscribed
    phone_region: US
    timezone: UTC
    priority: 5
  - name: mailchimp_cleaned
    path: "{d}{MAILCHIMP_CLEANED}"
    profile: mailchimp.cleaned
    phone_region: US
    timezone: UTC
    priority: 5
  - name: inbox                # Gmail Takeout of the sales team: mail, bounces, an autoreply
    path: "{d}{MBOX}"
    format: mbox
    timezone: UTC
    priority: 10
  - name: zendesk
    path: "{d}{ZENDESK}"
    profile: zendesk.tickets
    timezone: UTC
    columns: {{"SLA target (hours) [int]": sla_hours}}
  - name: nps_survey           # Typeform export; the NPS answers are survey rows, not contacts
    path: "{d}{TYPEFORM}"
    profile: none
    entity: surveys
    timezone: UTC
    columns: {{"#": external_id, "{NPS_QUESTION}": score, email: respondent_email, survey: survey_type, "Submit Date (UTC)": answered_at}}
  - name: support_survey
    path: "{d}{SUPPORT_SURVEY}"
    entity: surveys
    timezone: UTC
  - name: orders
    path: "{d}{ORDERS}"
    entity: orders
    timezone: UTC
  - name: deal_stages
    path: "{d}{DEAL_STAGES}"
    entity: deal_stages
    timezone: America/New_York
  - name: spend
    path: "{d}{SPEND}"
    entity: spend
    timezone: UTC
  - name: quotas
    path: "{d}{QUOTAS}"
    entity: quotas
    timezone: UTC

stale_after_days: 730

kpis:
  period: {PERIOD}

output:
  dir: {output_dir}
"""
