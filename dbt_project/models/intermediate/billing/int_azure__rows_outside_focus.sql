{#- Rows of the Azure cost-details exports the FOCUS table does not take, each with its reason
    (decided once, in int_azure__cost_details_rows), for the row-conservation check
    (tests/assert_billing_rows_conserved.sql). -#}
select
    x_source,
    x_source_file,
    x_source_row,
    billing_account_id,
    billing_period,
    outside_focus_reason as reason
from {{ ref('int_azure__cost_details_rows') }}
where not in_focus
