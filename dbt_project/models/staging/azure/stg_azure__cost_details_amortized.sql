{{ stg_azure_cost_details(source('raw', 'azure_cost_details_amortized'), 'amortized') }}
