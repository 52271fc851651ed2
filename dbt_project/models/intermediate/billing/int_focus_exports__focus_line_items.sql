{#- Staged FOCUS files (int_focus_exports__line_items) -> Atlas's FOCUS table: values spelled as
    FOCUS 1.2 spells them, required columns an older or sparser file lacks filled. A hyperscaler's
    export gets ProviderName as in Atlas's other models (`exporting_provider_name`), also as
    Service/HostProviderName when not delivered; a vendor's own file keeps ProviderName as
    delivered, ServiceProviderName (1.3) is that 1.2 ProviderName, and HostProviderName, when not
    delivered, the service provider (FOCUS: a provider that does not disclose where it runs names
    itself). -#}
with

rows as (
    select
        *,
        coalesce(exporting_provider_name, "ProviderName") as provider_name
    from {{ ref('int_focus_exports__line_items') }}
),

conformed as (
    select
        {{ star_except(['"ProviderName"', '"ServiceProviderName"', '"HostProviderName"', '"ChargeFrequency"',
                        '"ServiceCategory"', '"ServiceSubcategory"', '"PricingCategory"', '"Tags"', 'x_charge_type',
                        'billing_account_id', 'billing_period', 'x_invoice_cost', 'x_amortized_cost',
                        'exporting_provider_name', 'provider_name']) }},
        provider_name as "ProviderName",
        coalesce("ServiceProviderName", provider_name) as "ServiceProviderName",
        case
            when exporting_provider_name is not null then coalesce("HostProviderName", provider_name)
            else coalesce("HostProviderName", "ServiceProviderName", provider_name)
        end as "HostProviderName",
        -- FOCUS 1.0 wrote "Usage-based".
        case when lower("ChargeFrequency") = 'usage-based' then 'Usage-Based' else "ChargeFrequency" end
            as "ChargeFrequency",
        -- FOCUS requires a ServiceCategory; a file without one gets the spec's catch-all.
        coalesce("ServiceCategory", 'Other') as "ServiceCategory",
        -- ServiceSubcategory arrived in FOCUS 1.1: older exports get their category's "Other (…)".
        coalesce("ServiceSubcategory", 'Other (' || coalesce("ServiceCategory", 'Other') || ')') as "ServiceSubcategory",
        case
            when "PricingCategory" = 'On-Demand' then 'Standard'
            when "PricingCategory" = 'Commitment-Based' then 'Committed'
            else "PricingCategory"
        end as "PricingCategory",
        coalesce("Tags", cast('{}' as {{ sql_type('json') }})) as "Tags",
        coalesce(x_charge_type, "ChargeCategory") as x_provider_line_type,
        {{ normalized_tag_map(json_to_tag_map('coalesce("Tags", cast(\'{}\' as ' ~ sql_type('json') ~ '))')) }} as x_tag_map
    from rows
)

select
    {{ star_except(['x_tag_map']) }},
    {{ tag_columns('x_tag_map') }}
from conformed
