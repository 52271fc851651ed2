{#- FOCUS: a commitment purchase is amortized into the usage it covers, so its EffectiveCost is 0;
    unused commitment rows are billed through the purchase, so their BilledCost is 0. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'focus_cost_and_usage'}}}) }}
select *
from {{ ref('focus_cost_and_usage') }}
where ("ChargeCategory" = 'Purchase' and "CommitmentDiscountId" is not null and "EffectiveCost" <> 0)
    or ("CommitmentDiscountStatus" = 'Unused' and "BilledCost" <> 0)
