-- Catálogo inicial, carregado uma vez só: no primeiro arranque, com a tabela vazia.
-- (Roda sob o mesmo advisory lock do esquema, então vários workers não duplicam.)
INSERT INTO livros (titulo, autor, preco, estoque_fisico)
SELECT titulo, autor, preco, estoque
  FROM (VALUES
        ('Dom Casmurro',                  'Machado de Assis',       39.90, 10),
        ('Memórias Póstumas de Brás Cubas','Machado de Assis',      42.50,  8),
        ('Grande Sertão: Veredas',        'João Guimarães Rosa',    89.90,  5),
        ('Vidas Secas',                   'Graciliano Ramos',       34.90, 12),
        ('A Hora da Estrela',             'Clarice Lispector',      29.90,  7),
        ('O Cortiço',                     'Aluísio Azevedo',        31.50,  6),
        ('Macunaíma',                     'Mário de Andrade',       36.00,  4),
        ('Capitães da Areia',             'Jorge Amado',            44.90,  9),
        ('Torto Arado',                   'Itamar Vieira Junior',   59.90,  3),
        ('O Último Exemplar',             'Edição do Laboratório',  19.90,  1)
       ) AS catalogo (titulo, autor, preco, estoque)
 WHERE NOT EXISTS (SELECT 1 FROM livros);
