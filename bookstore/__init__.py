"""Código transversal dos três serviços da livraria.

Como o `pkg/` do HotROD do Jaeger: o que é igual em livros, ordens e pagamentos
(aplicação Flask base, banco, erros, validação, saúde, injeção de falhas,
telemetria) mora aqui uma vez só. A regra de negócio fica na pasta de cada serviço.
"""
