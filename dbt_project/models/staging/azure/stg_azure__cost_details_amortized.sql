{#- The Azure amortized-cost export's rows (stg_azure__cost_details): commitments spread over
    the usage they cover. -#}
select * from {{ ref('stg_azure__cost_details') }}
where dataset = 'amortized'
