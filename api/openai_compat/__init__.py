"""OpenAI's audio API as a façade over the same jobs (`api/routes/openai.py`): its form, its
answers, its error shape and the wait for a job."""
