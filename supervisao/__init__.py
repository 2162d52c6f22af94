"""Os processos que o laboratório sobe, num lugar só: como nascem, como param e quem os traz de volta.

- `filho.py`: um processo filho que morre com quem o subiu, fica num grupo próprio e para com prazo
  (o sinal de parar, a espera, e só então o SIGKILL no grupo inteiro);
- `vigiado.py`: um filho que volta sozinho quando cai, com aviso no terminal e espera que dobra;
- `portas.py`: portas livres para escutar e quem segura uma porta ocupada;
- `proc.py`: o que o /proc diz de um processo (filhos, CPU, memória), para as ferramentas que medem.

Fica abaixo de `modo_local`, `telemetria_local` e `ferramentas`, que o usam; não importa nenhum deles.
"""
