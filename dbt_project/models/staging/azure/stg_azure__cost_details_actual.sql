{#- The Azure actual-cost export's rows (stg_azure__cost_details): what was invoiced. -#}
select * from {{ ref('stg_azure__cost_details') }}
where dataset = 'actual'
