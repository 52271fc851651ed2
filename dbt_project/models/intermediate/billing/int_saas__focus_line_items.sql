{#- SaaS vendors' FOCUS rows -> Atlas's FOCUS table, straight through: ProviderName, PublisherName
    and InvoiceIssuerName as the vendor delivered them (macros/focus_export.sql). -#}
{{ focus_export_to_focus(ref('stg_saas__focus_cost')) }}
