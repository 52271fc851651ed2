{#- The FOCUS table joins each charge to the rate whose validity [rate_date, next rate_date) holds
    its BillingPeriodStart: two rates for one currency and date would duplicate line items. -#}
select reporting_currency, currency, rate_date, count(*) as rates
from {{ ref('fx_rates') }}
group by all
having count(*) > 1
