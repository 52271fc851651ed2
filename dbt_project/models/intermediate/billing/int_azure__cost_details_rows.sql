{#- Every row of both Azure cost-details exports (actual and amortized describe the same charges
    twice), each with whether the FOCUS table takes it — the one place that decides, per billing
    account and period:
    - with both exports: commitment-covered usage and unused commitments from the amortized export
      (at their amortized cost), everything else from the actual-cost export;
    - actual cost only (many organisations export nothing else): every actual row;
    - amortized only: no row (its BilledCost is unknown), each with that reason.
    int_azure__focus_line_items maps the rows taken; int_azure__rows_outside_focus lists the others
    with `outside_focus_reason`, for the row-conservation check. NULL-safe throughout: a blank
    PricingModel or ChargeType is an on-demand row, never a dropped one. -#}
with

exported as (
    select *, {{ azure_is_commitment('pricing_model') }} as is_commitment
    from {{ ref('stg_azure__cost_details_actual') }}
    union all
    select *, {{ azure_is_commitment('pricing_model') }} as is_commitment
    from {{ ref('stg_azure__cost_details_amortized') }}
),

{#- Which exports each billing account and period has, from those three columns alone, not from
    `exported`: a CTE read twice is materialized whole, and a build of one billing period then
    computed every period's rows (a daily run on 12 months of Azure history: 19 s of its 39). -#}
periods as (
    select
        billing_account_id,
        billing_period,
        bool_or(dataset = 'actual') as has_actual_export,
        bool_or(dataset = 'amortized') as has_amortized_export
    from (
        select billing_account_id, billing_period, dataset from {{ ref('stg_azure__cost_details_actual') }}
        union all
        select billing_account_id, billing_period, dataset from {{ ref('stg_azure__cost_details_amortized') }}
    ) as delivered
    group by 1, 2
),

judged as (
    select
        exported.*,
        periods.has_actual_export,
        periods.has_amortized_export,
        {{ azure_amortized_row_in_focus('exported') }} as is_amortized_view_row
    from exported
    inner join periods
        on periods.billing_account_id is not distinct from exported.billing_account_id
        and periods.billing_period = exported.billing_period
),

final as (
    select
        {{ star_except(['is_amortized_view_row']) }},
        case
            when dataset = 'actual' then not (has_amortized_export and is_amortized_view_row)
            else has_actual_export and is_amortized_view_row
        end as in_focus,
        case
            when dataset = 'actual' and has_amortized_export and is_amortized_view_row
                then 'commitment-covered usage: taken from the amortized export, at its amortized cost'
            when dataset = 'amortized' and not has_actual_export
                then 'no actual-cost export for this billing account and period: BilledCost unknown'
            when dataset = 'amortized' and not is_amortized_view_row
                then 'priced by the actual-cost export'
        end as outside_focus_reason
    from judged
)

select * from final
