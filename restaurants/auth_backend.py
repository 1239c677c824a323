"""Authentication against DynamoDB users.

ModelBackend already does the right things (constant-time miss, is_active
check, password upgrade on login); only its user lookups use the ORM, so
they go through our manager instead: ``get_user`` (every request) may use
the cached profile, ``authenticate`` (a login) always reads DynamoDB.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class DynamoUserBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = User._default_manager.get_for_login(username)
        except User.DoesNotExist:
            User().set_password(password)  # as ModelBackend: a miss costs a hash too
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        User = get_user_model()
        try:
            user = User._default_manager.get_by_natural_key(user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        return {"*"} if user_obj.is_active and user_obj.is_superuser else set()

    def has_perm(self, user_obj, perm, obj=None):
        return user_obj.is_active and user_obj.is_superuser
