{#- FOCUS: CommitmentDiscountStatus is set exactly on Usage rows of a commitment; PricingCategory is
    set on Usage and Purchase rows and null on Tax rows. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select *
from {{ ref('focus_cost_and_usage') }}
where ("CommitmentDiscountId" is not null and "ChargeCategory" = 'Usage' and "CommitmentDiscountStatus" is null)
    or ("ChargeCategory" <> 'Usage' and "CommitmentDiscountStatus" is not null)
    or ("ChargeCategory" in ('Usage', 'Purchase') and coalesce("ChargeClass", '') <> 'Correction'
        and "PricingCategory" is null)
    or ("ChargeCategory" = 'Tax' and "PricingCategory" is not null)
