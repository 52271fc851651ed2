{#- Rows of the Azure cost-details exports that are not FOCUS rows, each with its reason, so the
    row conservation check accounts for every landed row (tests/assert_billing_rows_conserved.sql).
    The two exports describe the same charges twice: FOCUS takes each charge once
    (int_azure__focus_line_items) — commitment-covered usage and unused commitments from the
    amortized export (where one was delivered), everything else from the actual-cost export. -#}
with

actual as (
    select *, {{ azure_is_commitment('pricing_model') }} as is_commitment
    from {{ ref('stg_azure__cost_details_actual') }}
),

amortized as (
    select *, {{ azure_is_commitment('pricing_model') }} as is_commitment
    from {{ ref('stg_azure__cost_details_amortized') }}
),

actual_periods as (
    select distinct billing_account_id, billing_period from actual
),

amortized_periods as (
    select distinct billing_account_id, billing_period from amortized
),

actual_outside as (
    select
        actual.x_source,
        actual.x_source_file,
        actual.x_source_row,
        actual.billing_account_id,
        actual.billing_period,
        'commitment-covered usage: taken from the amortized export, at its amortized cost' as reason
    from actual
    inner join amortized_periods
        on amortized_periods.billing_account_id is not distinct from actual.billing_account_id
        and amortized_periods.billing_period = actual.billing_period
    where {{ azure_amortized_row_in_focus('actual') }}
),

amortized_outside as (
    select
        amortized.x_source,
        amortized.x_source_file,
        amortized.x_source_row,
        amortized.billing_account_id,
        amortized.billing_period,
        case
            when actual_periods.billing_period is null
                then 'no actual-cost export for this billing account and period: BilledCost unknown'
            else 'priced by the actual-cost export'
        end as reason
    from amortized
    left join actual_periods
        on actual_periods.billing_account_id is not distinct from amortized.billing_account_id
        and actual_periods.billing_period = amortized.billing_period
    where not (actual_periods.billing_period is not null and {{ azure_amortized_row_in_focus('amortized') }})
)

select * from actual_outside
union all
select * from amortized_outside
